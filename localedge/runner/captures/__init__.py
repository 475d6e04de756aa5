"""``python -m localedge captures``: the frames CameraCapture kept for retraining, listed, exported for review and
uploaded to a Custom Vision training project (or to Azure Machine Learning, :mod:`localedge.runner.azureml`).

Where captures are: CameraCapture writes each capture as ``<name>.jpg`` (the frame as classified) and
``<name>.json`` (its sidecar: ``predictions`` [{tagName, probability}], ``reason``, ``capturedAt``, ``threshold``,
``frameNumber``, ``modelSha256``...) to one container of Blob Storage on IoT Edge (CAPTURE_CONTAINER, default
``captures``; Azurite under the local runner), grouped by a blob-name prefix, the UTC day or the tag
(``captures/20261130/20261130T081530.123456Z-f000000042.jpg``); the module uploads that container to the user's
cloud storage account (as ``<device id>-captures``) and deletes it on the device. Without storage CameraCapture
writes the same layout under its CAPTURE_DIR. This command reads either: a storage account through a
connection string (``--connection-string``, else ``CAPTURES_CONNECTION_STRING``, else
``BLOB_UPLOAD_CONNECTION_STRING`` from ``.env`` or the environment), with the ``azure-storage-blob`` SDK, every
container or those named; or a folder (``--dir``, e.g. a copy of CAPTURE_DIR; hidden files and folders, such as
the spool ``.spool``, are left out). The earlier layout, a container per day or tag, is read the same way.

- ``list``: counts by predicted tag, reason and day.
- ``export FOLDER``: a folder a person can review: ``FOLDER/<tag>/<name>.jpg`` with its ``.json`` sidecar, grouped
  by the tag the model gave at its threshold (``_untagged`` when no tag reached it, whatever the best guess was:
  ``bestTag`` in the index), ``index.csv`` (one row per capture) and
  ``index.json`` (the same, and which folder stands for which tag). Moving a picture (with its sidecar) to another
  tag's folder, or to a new folder named after a tag, relabels it; deleting it leaves it out of the upload.
- ``upload FOLDER``: an exported (and reviewed) folder to a Custom Vision training project, with the training API
  v3.3: GetTags, CreateTag for the tags the project lacks, and CreateImagesFromData (multipart, at most 64 images
  of at most 6 MB per request, ``tagIds`` the folder's tag). Endpoint, training key and project id come from
  ``.env`` (CUSTOM_VISION_TRAINING_ENDPOINT, CUSTOM_VISION_TRAINING_KEY, CUSTOM_VISION_PROJECT_ID). A 429 is
  retried after its Retry-After; what was uploaded is recorded in ``FOLDER/uploaded.json`` so a second run
  sends only the rest. The key is sent as the ``Training-Key`` header and never printed.

Exit codes: 0 done; 1 some images were refused or could not be read (each said in one line); 2 nothing could
be done (a missing setting, storage or service out of reach, a refused key), said in one line.

One concern a module: :mod:`~localedge.runner.captures.sources` (where captures are read from, their sidecars,
the listing's counts), :mod:`~localedge.runner.captures.review` (the review folder: export, and the pictures
of a reviewed one), :mod:`~localedge.runner.captures.customvision` (the Custom Vision training API client and
the upload to a project), :mod:`~localedge.runner.captures.command` (the command line).
"""

from __future__ import annotations


class CapturesError(RuntimeError):
    """The command cannot go on; the message is one line naming what to fix (and never a secret)."""
