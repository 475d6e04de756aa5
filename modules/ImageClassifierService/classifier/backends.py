"""Inference runtimes behind one small interface: ONNX Runtime, TensorFlow Lite, TensorFlow.

contract: docs/customvision.md sections 2 and 3. Which runtime runs an export follows from its
model file: ``model.onnx`` (ONNX Runtime), ``model.tflite`` (``ai-edge-litert``, else
``tflite-runtime`` as on arm32v7, else TensorFlow's own ``tf.lite``), ``model.pb`` (a TF1 frozen
graph, TensorFlow installed as an optional extra). Each runtime is imported only when an export
needs it, so a service holding an ONNX model never pays for TensorFlow Lite, and the reverse.
"""

from __future__ import annotations

import functools
import importlib
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np


class RuntimeMissing(RuntimeError):
    """No runtime for this model file is installed on this platform."""


@dataclass(frozen=True)
class TensorInfo:
    """One input or output: ``shape`` with None for a dynamic dimension; ``dtype`` numpy dtype,
    or None for a ZipMap output (``seq(map(string, float))``, ONNX12 exports)."""

    name: str
    shape: tuple[int | None, ...]
    dtype: np.dtype | None

    @property
    def is_zipmap(self) -> bool:
        return self.dtype is None


class Backend(ABC):
    """A loaded network. ``run`` is safe to call from several threads at once."""

    runtime: str  # "ONNX Runtime", "TensorFlow Lite", "TensorFlow"
    inputs: list[TensorInfo]
    outputs: list[TensorInfo]
    metadata: dict[str, str]  # model metadata (ONNX metadata_props), empty where the format has none
    producer: str

    @property
    def embedded_labels(self) -> tuple[str, ...]:
        """A ZipMap's labels, in the model's order (ONNX12 exports); () for any other model."""
        return ()

    @abstractmethod
    def run(self, names: list[str], tensor: np.ndarray) -> list[Any]:
        """Feed ``tensor`` to the first input; return the named outputs (ndarray, or a list of
        dicts for a ZipMap), in the order asked."""


def _dim(value: Any) -> int | None:
    return int(value) if isinstance(value, (int, np.integer)) and int(value) > 0 else None


class OnnxBackend(Backend):
    """ONNX Runtime CPU session; intra-op ``threads`` (0 = one per core)."""

    runtime = "ONNX Runtime"

    _TYPES = {"tensor(float)": np.float32, "tensor(float16)": np.float16, "tensor(int64)": np.int64,
              "tensor(int32)": np.int32, "tensor(double)": np.float64, "tensor(string)": np.str_}

    def __init__(self, path: Path, threads: int = 0) -> None:
        try:
            import onnxruntime as ort
        except ImportError as exc:
            raise RuntimeMissing(
                "ONNX Runtime is not installed on this platform (it has no 32-bit ARM build): "
                "use a 64-bit OS and the arm64v8 image, or export the model from Custom Vision as TensorFlow Lite"
            ) from exc
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        # between runs the pool's threads sleep instead of spinning (by default they spin, a core each,
        # taking it from CameraCapture on the same device; measured: no slower on 2 cores)
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3
        # no memory pattern (one block planned for all of a run's tensors, kept per input shape): its
        # tensors come from the arena one by one instead; 4-9 MB less resident, no slower
        # (benchmarks/large_photos.py, benchmarks/classifier_service.py)
        options.enable_mem_pattern = False
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        meta = self.session.get_modelmeta()
        self.metadata = dict(meta.custom_metadata_map)
        self.producer = meta.producer_name or "unknown"
        self.inputs = [self._info(i) for i in self.session.get_inputs()]
        self.outputs = [self._info(o) for o in self.session.get_outputs()]
        self._path = path

    @functools.cached_property
    def embedded_labels(self) -> tuple[str, ...]:
        """A ZipMap's labels, in the model's order; read from the model file when first asked for (only
        without a labels.txt: protobuf keeps 3.5 MB resident once imported)."""
        return zipmap_labels(self._path.read_bytes()) if any(o.is_zipmap for o in self.outputs) else ()

    def _info(self, node: Any) -> TensorInfo:
        if node.type.startswith("seq(map"):
            return TensorInfo(node.name, (), None)
        shape = tuple(_dim(d) for d in (node.shape or []))
        return TensorInfo(node.name, shape, np.dtype(self._TYPES.get(node.type, np.float32)))

    def run(self, names: list[str], tensor: np.ndarray) -> list[Any]:
        return self.session.run(names, {self.inputs[0].name: tensor})


@functools.cache
def _onnx_model_subset() -> Any:
    """A protobuf message class for the few ONNX fields :func:`zipmap_labels` reads (field numbers
    from onnx.proto): ModelProto.graph 7; GraphProto.node 1; NodeProto.op_type 4, attribute 5;
    AttributeProto.name 1, strings 9. Other fields are skipped as unknown."""
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

    field = descriptor_pb2.FieldDescriptorProto
    file = descriptor_pb2.FileDescriptorProto(name="onnx_subset.proto", package="onnx_subset")
    for name, fields in {"ModelProto": [("graph", 7, field.TYPE_MESSAGE, field.LABEL_OPTIONAL, "GraphProto")],
                         "GraphProto": [("node", 1, field.TYPE_MESSAGE, field.LABEL_REPEATED, "NodeProto")],
                         "NodeProto": [("op_type", 4, field.TYPE_STRING, field.LABEL_OPTIONAL, ""),
                                       ("attribute", 5, field.TYPE_MESSAGE, field.LABEL_REPEATED, "AttributeProto")],
                         "AttributeProto": [("name", 1, field.TYPE_STRING, field.LABEL_OPTIONAL, ""),
                                            ("strings", 9, field.TYPE_BYTES, field.LABEL_REPEATED, "")]}.items():
        message = file.message_type.add(name=name)
        for field_name, number, kind, label, type_name in fields:
            message.field.add(name=field_name, number=number, type=kind, label=label,
                              type_name=f".onnx_subset.{type_name}" if type_name else None)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("onnx_subset.ModelProto"))


def zipmap_labels(model: bytes) -> tuple[str, ...]:
    """The ``classlabels_strings`` of the first ZipMap node of an ONNX model (its bytes), in the
    model's order; empty when there is none or the model cannot be parsed. ONNX Runtime answers a
    ZipMap with a dict sorted by label, so the declared order is read from the model itself, with
    protobuf (a dependency of ONNX Runtime; the ``onnx`` package is not needed)."""
    from google.protobuf.message import DecodeError

    parsed = _onnx_model_subset()()
    try:
        parsed.ParseFromString(model)
    except DecodeError:
        return ()
    for node in parsed.graph.node:
        if node.op_type == "ZipMap":
            for attribute in node.attribute:
                if attribute.name == "classlabels_strings":
                    return tuple(label.decode("utf-8", "replace") for label in attribute.strings)
    return ()


def tflite_interpreter_class() -> Any:
    """The TFLite ``Interpreter`` class: ai-edge-litert, tflite-runtime (arm32v7), or tf.lite."""
    for module in ("ai_edge_litert.interpreter", "tflite_runtime.interpreter"):
        try:
            return importlib.import_module(module).Interpreter
        except ImportError:
            continue
    try:
        return importlib.import_module("tensorflow").lite.Interpreter
    except ImportError as exc:
        raise RuntimeMissing(
            "no TensorFlow Lite runtime is installed: pip install ai-edge-litert (or tflite-runtime on 32-bit ARM)"
        ) from exc


class TfliteBackend(Backend):
    """TensorFlow Lite interpreter. An interpreter is not thread-safe, so a small pool holds one
    per concurrent caller (created on demand, at most ``pool`` of them); ``threads`` per interpreter."""

    runtime = "TensorFlow Lite"

    def __init__(self, path: Path, threads: int = 0, pool: int = 2) -> None:
        self._cls = tflite_interpreter_class()
        self._content = path.read_bytes()
        self._threads = threads or None
        self._free: list[Any] = [self._new()]
        self._created = 1
        self._limit = max(1, pool)
        self._cond = threading.Condition()
        first = self._free[0]
        details = first.get_input_details()
        self._input_index = details[0]["index"]
        self.inputs = [self._info(d) for d in details]
        outputs = first.get_output_details()
        self._output_index = {d["name"]: d["index"] for d in outputs}
        self.outputs = [self._info(d) for d in outputs]
        self.metadata = {}
        self.producer = "TensorFlow Lite"

    @staticmethod
    def _info(details: dict[str, Any]) -> TensorInfo:
        shape = details.get("shape_signature", details["shape"])
        return TensorInfo(details["name"], tuple(_dim(x) for x in shape), np.dtype(details["dtype"]))

    def _new(self) -> Any:
        interpreter = self._cls(model_content=self._content, num_threads=self._threads)
        interpreter.allocate_tensors()
        return interpreter

    def _acquire(self) -> Any:
        with self._cond:
            while True:
                if self._free:
                    return self._free.pop()
                if self._created < self._limit:
                    self._created += 1
                    break
                self._cond.wait()
        try:
            return self._new()
        except Exception:
            with self._cond:
                self._created -= 1
                self._cond.notify()
            raise

    def _release(self, interpreter: Any) -> None:
        with self._cond:
            self._free.append(interpreter)
            self._cond.notify()

    def run(self, names: list[str], tensor: np.ndarray) -> list[Any]:
        interpreter = self._acquire()
        try:
            interpreter.set_tensor(self._input_index, tensor)
            interpreter.invoke()
            return [np.array(interpreter.get_tensor(self._output_index[n])) for n in names]
        finally:
            self._release(interpreter)


class TensorflowBackend(Backend):
    """A TF1 frozen graph (``model.pb``) in a TensorFlow session: input the graph's Placeholder,
    outputs the ops nothing else consumes (Custom Vision: ``loss``)."""

    runtime = "TensorFlow"

    def __init__(self, path: Path, threads: int = 0) -> None:
        try:
            tf = importlib.import_module("tensorflow")
        except ImportError as exc:
            raise RuntimeMissing(
                "TensorFlow is not installed, and it is needed for a frozen graph (model.pb): convert the export "
                "once on a PC, in this project, with `make convert-model EXPORT=path/to/export` and deploy the "
                "model.onnx and model.tflite it writes, or export the model from Custom Vision as ONNX or TensorFlow Lite"
            ) from exc
        v1 = tf.compat.v1
        graph_def = v1.GraphDef()
        graph_def.ParseFromString(path.read_bytes())
        self._graph = tf.Graph()
        with self._graph.as_default():
            tf.graph_util.import_graph_def(graph_def, name="")
        consumed = {i.split(":")[0].lstrip("^") for n in graph_def.node for i in n.input}
        placeholders = [n for n in graph_def.node if n.op == "Placeholder"]
        if not placeholders:
            raise ValueError("the graph has no Placeholder input")
        leaves = [n.name for n in graph_def.node if n.name not in consumed and n.op not in ("Const", "NoOp", "Placeholder")]
        self.inputs = [self._info(f"{n.name}:0") for n in placeholders]
        self.outputs = [self._info(f"{name}:0") for name in leaves]
        config = v1.ConfigProto(intra_op_parallelism_threads=threads, inter_op_parallelism_threads=1)
        self._session = v1.Session(graph=self._graph, config=config)
        self.metadata = {}
        self.producer = "TensorFlow"

    def _info(self, name: str) -> TensorInfo:
        tensor = self._graph.get_tensor_by_name(name)
        dims = tensor.shape.as_list() if tensor.shape.rank is not None else []
        return TensorInfo(name, tuple(_dim(d) for d in dims), np.dtype(tensor.dtype.as_numpy_dtype))

    def run(self, names: list[str], tensor: np.ndarray) -> list[Any]:
        return list(self._session.run(names, {self.inputs[0].name: tensor}))


# Model file suffix -> backend, in the order an export folder is searched.
BACKENDS: dict[str, Callable[[Path, int], Backend]] = {".onnx": OnnxBackend, ".tflite": TfliteBackend, ".pb": TensorflowBackend}
