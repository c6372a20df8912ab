"""Small imitations of published label-table layouts (NIH ChestX-ray14, CheXpert, RSNA Pneumonia, a COVID
collection) and their config snippets, read from docs/data.md's "Published layouts" section.

Each builder takes ``patients`` = {class: [[image file of one patient, ...], ...]} (random test images, or the
Kermany sample beside the project) and lays them out as the data set ships them: the table with its published
columns and values, the images under their published names (symbolic links; RSNA's as DICOM files), plus rows and
files the workflow must count and not use. It returns what the intake report must then say.
"""

import csv
import io
import re
import uuid
from pathlib import Path

import numpy as np
import yaml
from helpers import write_image
from PIL import Image
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.uid import JPEGBaseline8Bit, SecondaryCaptureImageStorage
from workflow_helpers import REPO

CLASSES = ["NORMAL", "PNEUMONIA"]
DATA_MD = REPO / "docs" / "data.md"
# Subsection of docs/data.md's "Published layouts" -> the domain its snippet defines.
SNIPPETS = {
    "NIH ChestX-ray14": "NIH",
    "CheXpert": "CheXpert",
    "RSNA Pneumonia Detection": "RSNA",
    "A COVID collection (covid-chestxray-dataset)": "COVID",
}


def published_settings(name, root):
    """The domain settings of docs/data.md's snippet for ``name`` (NIH, CheXpert, RSNA, COVID), its `/data/<x>`
    folder replaced by ``root``."""
    text = DATA_MD.read_text()
    section = text[text.index("## Published layouts") :]
    heading = next(h for h, domain in SNIPPETS.items() if domain == name)
    block = re.search(rf"### {re.escape(heading)}\n.*?```yaml\n(.*?)```", section, re.S).group(1)
    settings = yaml.safe_load(block)["domains"][name]
    prefix = re.match(r"/data/[^/]+", settings["images"]).group(0)
    for key in ("manifest", "images"):
        settings[key] = settings[key].replace(prefix, str(root), 1)
    return settings


def random_patients(folder, patients_per_class, images_per_patient=(1, 2, 3)):
    """Distinct random PNG images, grouped by patient: {class: [[path, ...], ...]}."""
    found = {}
    for label, name in enumerate(CLASSES):
        found[name] = [
            [
                write_image(Path(folder) / name / f"p{p}_{i}.png", (label, p, i))
                for i in range(images_per_patient[p % len(images_per_patient)])
            ]
            for p in range(patients_per_class)
        ]
    return found


def link(path, target):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.symlink_to(Path(target).resolve())
    return path


def write_csv(path, header, rows, trailing_comma=False):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        for row in [header, *rows]:
            writer.writerow([*row, ""] if trailing_comma else row)
    return path


def nih_layout(root, patients):
    """Data_Entry_2017.csv and images/: `00000001_000.png`, patient then follow-up number; Finding Labels joins
    findings with | or says No Finding. The published header ends with a comma (an unnamed last column)."""
    header = [
        "Image Index",
        "Finding Labels",
        "Follow-up #",
        "Patient ID",
        "Patient Age",
        "Patient Gender",
        "View Position",
        "OriginalImage[Width",
        "Height]",
        "OriginalImagePixelSpacing[x",
        "y]",
    ]
    pneumonia = ["Pneumonia", "Pneumonia|Effusion", "Infiltration|Pneumonia"]
    rows, patient_of = [], {}
    for patient_id, (name, files) in enumerate(((n, f) for n in CLASSES for f in patients[n]), start=1):
        for follow_up, target in enumerate(files):
            image = f"{patient_id:08d}_{follow_up:03d}.png"
            link(Path(root) / "images" / image, target)
            finding = "No Finding" if name == "NORMAL" else pneumonia[(patient_id + follow_up) % len(pneumonia)]
            rows.append([image, finding, follow_up, patient_id, 40 + follow_up, "MF"[patient_id % 2], "PA"])
            rows[-1] += [2500, 2048, 0.143, 0.143]
            patient_of[image] = str(patient_id)
    # Another finding only: no class claims it. An image of the archive that the table does not name.
    last = patients["PNEUMONIA"][-1][0]
    link(Path(root) / "images" / "00009999_000.png", last)
    rows.append(["00009999_000.png", "Effusion|Atelectasis", 0, 9999, 61, "F", "AP", 2500, 2048, 0.143, 0.143])
    link(Path(root) / "images" / "00009998_000.png", last)
    write_csv(Path(root) / "Data_Entry_2017.csv", header, rows, trailing_comma=True)
    return {
        "patients": patient_of,
        "label_values_without_class": {"Effusion|Atelectasis": 1},
        "images_not_in_manifest": ["00009998_000.png"],
    }


CHEXPERT_FINDINGS = [
    "No Finding",
    "Enlarged Cardiomediastinum",
    "Cardiomegaly",
    "Lung Opacity",
    "Lung Lesion",
    "Edema",
    "Consolidation",
    "Pneumonia",
    "Atelectasis",
    "Pneumothorax",
    "Pleural Effusion",
    "Pleural Other",
    "Fracture",
    "Support Devices",
]


def chexpert_layout(root, patients):
    """CheXpert-v1.0/train.csv and CheXpert-v1.0/train/patientNNNNN/studyK/view1_frontal.jpg; one column per
    finding with 1.0, 0.0, -1.0 (uncertain) or blank. Also: a lateral view, an uncertain Pneumonia row, and a
    valid/ image that train.csv does not name."""
    header = ["Path", "Sex", "Age", "Frontal/Lateral", "AP/PA", *CHEXPERT_FINDINGS]

    def row(path, view, findings):
        cells = [findings.get(f, "") for f in CHEXPERT_FINDINGS]
        return [path, "Female", 57, view, "AP" if view == "Frontal" else "", *cells]

    rows, patient_of = [], {}
    for number, (name, files) in enumerate(((n, f) for n in CLASSES for f in patients[n]), start=1):
        for study, target in enumerate(files, start=1):
            path = f"CheXpert-v1.0/train/patient{number:05d}/study{study}/view1_frontal.jpg"
            link(Path(root) / path, target)
            findings = {"No Finding": "1.0"} if name == "NORMAL" else {"Pneumonia": "1.0", "Lung Opacity": "1.0"}
            findings["Support Devices"] = "0.0" if study % 2 else ""
            rows.append(row(path, "Frontal", findings))
            patient_of[path] = f"{number:05d}"
    first = patients["PNEUMONIA"][0][0]
    lateral = "CheXpert-v1.0/train/patient90001/study1/view2_lateral.jpg"
    uncertain = "CheXpert-v1.0/train/patient90001/study1/view1_frontal.jpg"
    for path in (lateral, uncertain):
        link(Path(root) / path, first)
    rows.append(row(lateral, "Lateral", {"Pneumonia": "1.0"}))
    rows.append(row(uncertain, "Frontal", {"Pneumonia": "-1.0", "Edema": "1.0"}))
    link(Path(root) / "CheXpert-v1.0/valid/patient64541/study1/view1_frontal.jpg", first)
    write_csv(Path(root) / "CheXpert-v1.0" / "train.csv", header, rows)
    return {
        "patients": patient_of,
        "label_values_without_class": {
            "Frontal/Lateral=Lateral, No Finding=, Pneumonia=1.0": 1,
            "Frontal/Lateral=Frontal, No Finding=, Pneumonia=-1.0": 1,
        },
        "images_not_in_manifest": ["CheXpert-v1.0/valid/patient64541/study1/view1_frontal.jpg"],
    }


def write_dicom(path, pixels, patient_id):
    """An 8-bit MONOCHROME2 DICOM file as RSNA ships them: one frame in JPEG Baseline."""
    frame = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(pixels, dtype=np.uint8)).save(frame, format="JPEG", quality=95)
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
    meta.MediaStorageSOPInstanceUID = f"2.25.{uuid.uuid5(uuid.NAMESPACE_OID, patient_id).int}"
    meta.TransferSyntaxUID = JPEGBaseline8Bit
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID = SecondaryCaptureImageStorage, meta.MediaStorageSOPInstanceUID
    ds.PatientID, ds.Modality, ds.BodyPartExamined, ds.ViewPosition = patient_id, "CR", "CHEST", "PA"
    ds.Rows, ds.Columns = pixels.shape
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.LossyImageCompression = "01"
    ds.PixelData = encapsulate([frame.getvalue()])
    ds["PixelData"].VR = "OB"
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return path


def rsna_layout(root, patients):
    """stage_2_train_labels.csv (patientId, x, y, width, height, Target; one row per box, so a PNEUMONIA image
    with two boxes has two rows) and stage_2_train_images/<patientId>.dcm. One image per patientId."""
    rows, patient_of, boxes = [], {}, 0
    files = [(name, target) for name in CLASSES for patient in patients[name] for target in patient]
    for index, (name, target) in enumerate(files):
        patient_id = str(uuid.UUID(int=index + 1))
        pixels = np.asarray(Image.open(target).convert("L"))
        write_dicom(Path(root) / "stage_2_train_images" / f"{patient_id}.dcm", pixels, patient_id)
        patient_of[f"{patient_id}.dcm"] = patient_id
        if name == "NORMAL":
            rows.append([patient_id, "", "", "", "", 0])
        else:
            rows.append([patient_id, 264.0, 152.0, 213.0, 379.0, 1])
            if index % 2:
                rows.append([patient_id, 562.0, 152.0, 256.0, 453.0, 1])
                boxes += 1
    header = ["patientId", "x", "y", "width", "height", "Target"]
    write_csv(Path(root) / "stage_2_train_labels.csv", header, rows)
    return {
        "patients": patient_of,
        "duplicate_rows": boxes,
        "label_values_without_class": {},
        "images_not_in_manifest": [],
    }


def covid_layout(root, patients):
    """The covid-chestxray-dataset folder: metadata.csv (patientid, ..., finding, ..., view, modality, ...,
    folder, filename, ..., clinical_notes with commas, quotes and line breaks) and images/. Also a bacterial
    pneumonia row and a CT row, which no class of the snippet claims."""
    header = [
        "patientid",
        "offset",
        "sex",
        "age",
        "finding",
        "RT_PCR_positive",
        "survival",
        "view",
        "modality",
        "date",
        "location",
        "folder",
        "filename",
        "doi",
        "url",
        "license",
        "clinical_notes",
        "other_notes",
    ]
    base = Path(root)
    rows, patient_of = [], {}

    def add(patient_id, finding, modality, filename, target, offset):
        link(base / "images" / filename, target)
        note = f'Patient {patient_id}, "fever" and cough,\nday {offset}.'
        rows.append([patient_id, offset, "M", 65, finding, "Y", "", "PA", modality, "2020", "Italy", "images"])
        rows[-1] += [filename, "", "https://example.org", "CC BY", note, ""]

    for patient_id, (name, files) in enumerate(((n, f) for n in CLASSES for f in patients[n]), start=1):
        finding = "No Finding" if name == "NORMAL" else "Pneumonia/Viral/COVID-19"
        for offset, target in enumerate(files):
            filename = f"covid-{patient_id}-{offset}.jpeg"
            add(str(patient_id), finding, "X-ray", filename, target, offset)
            patient_of[filename] = str(patient_id)
    first = patients["PNEUMONIA"][0][0]
    add("900", "Pneumonia/Bacterial/Streptococcus", "X-ray", "strep-900.jpg", first, 0)
    add("901", "Pneumonia/Viral/COVID-19", "CT", "ct-901.png", first, 0)
    write_csv(base / "metadata.csv", header, rows)
    return {
        "patients": patient_of,
        "label_values_without_class": {
            "finding=Pneumonia/Bacterial/Streptococcus, modality=X-ray": 1,
            "finding=Pneumonia/Viral/COVID-19, modality=CT": 1,
        },
        "images_not_in_manifest": [],
    }


LAYOUTS = {"NIH": nih_layout, "CheXpert": chexpert_layout, "RSNA": rsna_layout, "COVID": covid_layout}
