"""Progress lines of long jobs: a time stamp, the time elapsed and an estimate of the time left.

Written to the rule's log (``tail -f results/logs/<rule>/...``): Snakemake shows nothing of a job
while it runs, and a GAN trains for minutes.
"""

import datetime
import time


def duration(seconds):
    """``seconds`` as H:MM:SS, or M:SS under an hour."""
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def time_stamp():
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


class Progress:
    """Times a job of ``total`` steps (epochs, images) of which ``done`` were finished before it started.

    The time left is the pace of the steps done by this process (not of a resumed run's earlier
    ones) times the steps left. ``due()`` says when ``interval`` seconds passed since the last line,
    for lines within a long step.
    """

    def __init__(self, total, done=0, log=print, interval=30.0, clock=time.monotonic):
        self.total, self.first, self.log, self.interval, self.clock = total, done, log, interval, clock
        self.started = self.last = clock()

    def due(self):
        return self.clock() - self.last >= self.interval

    def report(self, message, done):
        """Log ``message`` after ``done`` steps (a fraction within a step is fine)."""
        self.last = self.clock()
        elapsed = self.last - self.started
        if done > self.first:
            left = elapsed / (done - self.first) * (self.total - done)
            estimate = f"about {duration(left)} left"
        else:
            estimate = "time left not known yet"
        self.log(f"{time_stamp()} {message} (elapsed {duration(elapsed)}, {estimate})")
