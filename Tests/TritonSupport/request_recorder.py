"""Request recording shared by the python-backend models of Tests/TritonModels.

When tritonserver runs with RECORD_DIR in its environment (the backend stubs inherit
it), every request is appended as one JSON line to $RECORD_DIR/<model name>.jsonl
before the model processes it, so tests can compare what the server received with
what the client was asked to send.
"""
import base64
import json
import os
import threading
import time

import numpy as np

# Keyed by numpy dtype: in this python backend build Tensor.triton_dtype()
# returns an enum pybind cannot convert, so the dtype is derived from numpy.
_NUMPY_TO_TRITON = {
    "bool": "BOOL", "uint8": "UINT8", "uint16": "UINT16", "uint32": "UINT32",
    "uint64": "UINT64", "int8": "INT8", "int16": "INT16", "int32": "INT32",
    "int64": "INT64", "float16": "FP16", "float32": "FP32", "float64": "FP64",
    "object": "BYTES",
}
_RECORD_LOCK = threading.Lock()


def _describe_tensor(tensor):
    array = tensor.as_numpy()
    entry = {
        "name": tensor.name(),
        "datatype": _NUMPY_TO_TRITON.get(array.dtype.name, array.dtype.name),
        "shape": [int(d) for d in array.shape],
    }
    flat = array.reshape(-1)
    if array.dtype == np.object_ or array.dtype.kind in ("S", "U"):
        raw = [v if isinstance(v, bytes) else str(v).encode("utf-8") for v in flat]
        entry["data_base64"] = [base64.b64encode(v).decode("ascii") for v in raw]
        try:
            entry["data"] = [v.decode("utf-8") for v in raw]
        except UnicodeDecodeError:
            entry["data"] = None
    else:
        entry["data"] = flat.tolist()
    return entry


def _call_or_none(request, method):
    fn = getattr(request, method, None)
    if fn is None:
        return None
    try:
        return fn()
    except Exception as exc:  # keep serving even if an accessor is missing
        return "unavailable: %s" % exc


def record_request(model_name, request):
    """Appends one JSON line describing `request`; never raises."""
    record_dir = os.environ.get("RECORD_DIR")
    if not record_dir:
        return
    try:
        line = _request_as_json(model_name, request)
    except Exception as exc:
        line = json.dumps({"model": model_name, "time_ns": time.time_ns(),
                           "record_error": repr(exc)})
    try:
        with _RECORD_LOCK:
            with open(os.path.join(record_dir, model_name + ".jsonl"), "a", encoding="utf-8") as out:
                out.write(line + "\n")
    except OSError:
        pass


def _request_as_json(model_name, request):
    params = _call_or_none(request, "parameters")
    if isinstance(params, str):
        try:
            params = json.loads(params) if params else {}
        except ValueError:
            pass
    flags = _call_or_none(request, "flags")
    outputs = _call_or_none(request, "requested_output_names")
    entry = {
        "model": model_name,
        "time_ns": time.time_ns(),
        "request_id": _call_or_none(request, "request_id"),
        "correlation_id": _call_or_none(request, "correlation_id"),
        "flags": flags,
        "sequence_start": bool(flags & 1) if isinstance(flags, int) else None,
        "sequence_end": bool(flags & 2) if isinstance(flags, int) else None,
        "parameters": params,
        "requested_output_names": sorted(outputs) if isinstance(outputs, (set, list, tuple)) else outputs,
        "inputs": [_describe_tensor(t) for t in request.inputs()],
    }
    return json.dumps(entry, sort_keys=True, default=str)
