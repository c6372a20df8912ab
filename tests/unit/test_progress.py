"""synthcxr.progress: time stamps, elapsed time and the time left of long loops."""

import re

from synthcxr.progress import Progress, duration


class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_progress_estimates_the_time_left_from_the_pace_of_this_run():
    clock, lines = FakeClock(), []
    progress = Progress(10, done=4, log=lines.append, interval=30, clock=clock)  # resumed after 4 of 10
    clock.now += 20
    assert not progress.due()
    progress.report("epoch 5/10", done=5)
    clock.now += 45
    assert progress.due()
    progress.report("epoch 6/10: batch 1/2", done=5.5)
    assert lines[0].endswith(" epoch 5/10 (elapsed 0:20, about 1:40 left)")  # 20 s per epoch, 5 left
    assert lines[1].endswith(" epoch 6/10: batch 1/2 (elapsed 1:05, about 3:15 left)")  # 65 s for 1.5 epochs, 4.5 left
    assert re.match(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC ", lines[0])
    assert duration(3725) == "1:02:05" and duration(59.6) == "1:00"
