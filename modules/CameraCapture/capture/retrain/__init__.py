"""Captures for retraining: keep the frames the model was unsure of, in Blob Storage on IoT Edge.

The pipeline hands every classified frame to :meth:`Captures.offer` (on its own thread; it never
blocks: at most a grey thumbnail is computed and a bounded queue is tried). Whether a frame is kept
follows the live settings, in this order:

1. ``captureMode``: ``off`` (nothing; the default), ``uncertain`` (the best probability lies within
   ``captureBand`` of ``threshold``, both ends included), ``changes`` (the top tag at ``threshold``
   differs from the previous classified frame's; "no tag" counts as a tag) or ``sample`` (a random
   ``captureFraction`` of the frames);
2. ``captureMaxPerHour``: at most this many captures in any 60 minutes (a hard rate limit; counted
   ``droppedByRate``);
3. ``captureQuota``: at most this many captures per tag per UTC day (the tag: the most probable one,
   the label a reviewer is offered; the counts restart at 00:00 UTC; counted ``droppedByQuota``);
4. scene gating: a frame whose 64x48 grey thumbnail differs from the last captured frame's by less
   than ``captureSceneChange`` (mean absolute grey-level difference, 0-255; 0: off) is the same
   scene again and is not captured (counted ``skippedSameScene``);
5. the writer's queue (:data:`QUEUE_SIZE` captures): when it is full the capture is dropped
   (``droppedQueueFull``); classification never waits for storage.

A writer thread stores each capture as two blobs, the JPEG exactly as it was sent to the classifier
and its JSON sidecar (:class:`CaptureRecord`), in ONE container, ``CAPTURE_CONTAINER`` (default
``captures``: the container the Blob Storage on IoT Edge module's ``storageContainersForUpload``
names, so captures are uploaded to the cloud and then deleted on the device; that setting takes
exact container names, hence one fixed container). The blob names are ``<group>/<UTC time>-f<frame
number>``, the group being the UTC day (``captureGroupBy`` = ``day``, the default) or the tag
(``tag``: the tag in lowercase letters, digits and hyphens, ``none`` when no prediction at all):
``captures/20261130/20261130T081530.123456Z-f000000042.jpg`` and ``.json`` (sortable by time within
a group), or ``captures/apple/...``. The sidecar is written after the JPEG, so a sidecar always has
its image.

Where: with ``CAPTURE_STORAGE_CONNECTION_STRING``, Blob Storage (the Blob Storage on IoT Edge module
on a device, Azurite under the local runner) through the azure-storage-blob SDK; without it, files
under ``CAPTURE_DIR`` in the same layout (``<CAPTURE_DIR>/<container>/<group>/<name>.jpg``). When
storage fails, captures go to the spool folder (``CAPTURE_SPOOL_DIR``, default
``<CAPTURE_DIR>/.spool``; at most ``CAPTURE_SPOOL_MAX_MB``; it survives restarts) and are uploaded
oldest first when storage answers again, retried with capped exponential backoff; beyond the bound
new captures are dropped and counted (``droppedSpoolFull``).

Sidecars hold no personal data: predictions, threshold, reason, times, the frame number, the source
with credentials masked (edgekit.redact) and the model that answered (``X-Model-Sha256`` and
``X-Model-Flavour`` response headers of the classifier, when it sends them).

One concern a module: :mod:`capture.retrain.records` (the sidecar, blob names, the answering model),
:mod:`capture.retrain.policy` (which frames are kept), :mod:`capture.retrain.storage` (Blob Storage or a folder),
:mod:`capture.retrain.spool` (the bounded spool), :mod:`capture.retrain.writer` (the queue and the writer thread:
:class:`Captures`, what the pipeline holds) and :mod:`capture.retrain.metrics` (the Prometheus collector).
"""

from __future__ import annotations

from capture.retrain.records import ModelInfo, model_info
from capture.retrain.writer import Candidate, Captures

__all__ = ["Candidate", "Captures", "ModelInfo", "model_info"]  # what the pipeline uses
