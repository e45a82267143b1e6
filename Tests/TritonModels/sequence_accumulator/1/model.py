"""Triton python-backend test model `sequence_accumulator` for swift-perf-analyzer tests."""
import os
import sys

import numpy as np
import triton_python_backend_utils as pb_utils

# Recording lives in Tests/TritonSupport, shared by every test model.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "TritonSupport"))
from request_recorder import record_request  # noqa: E402


class TritonPythonModel:
    """Keeps a running sum of INPUT per sequence. The sequence batcher supplies
    the control tensors START, END (INT32 0/1) and CORRID (UINT64). A request
    with START=1 resets the sum; after a request with END=1 the sequence's
    state is dropped. OUTPUT = sum of all INPUT values seen so far in this
    sequence, including the current one (wrapping like INT32)."""

    def initialize(self, args):
        self.model_name = args["model_name"]
        self.sums = {}

    def execute(self, requests):
        responses = []
        for request in requests:
            record_request(self.model_name, request)
            value = pb_utils.get_input_tensor_by_name(request, "INPUT").as_numpy()
            start = pb_utils.get_input_tensor_by_name(request, "START").as_numpy()
            end = pb_utils.get_input_tensor_by_name(request, "END").as_numpy()
            corrid = int(pb_utils.get_input_tensor_by_name(request, "CORRID").as_numpy().reshape(-1)[0])
            if int(start.reshape(-1)[0]) != 0:
                self.sums[corrid] = 0
            # INT32 arithmetic with explicit two's-complement wrap-around
            # (perf_analyzer's random data overflows quickly).
            total = (self.sums.get(corrid, 0) + int(value.reshape(-1)[0]) + 2**31) % 2**32 - 2**31
            self.sums[corrid] = total
            if int(end.reshape(-1)[0]) != 0:
                self.sums.pop(corrid, None)
            out = np.full(value.shape, total, dtype=np.int32)
            responses.append(pb_utils.InferenceResponse(output_tensors=[pb_utils.Tensor("OUTPUT", out)]))
        return responses
