"""Triton python-backend test model `repeat_decoupled` for swift-perf-analyzer tests."""
import os
import sys

import numpy as np
import triton_python_backend_utils as pb_utils

# Recording lives in Tests/TritonSupport, shared by every test model.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "TritonSupport"))
from request_recorder import record_request  # noqa: E402


# perf_analyzer's default random input data puts huge values into IN, so N
# is clamped to keep the server responsive.
MAX_RESPONSES = 100


class TritonPythonModel:
    """Decoupled model: for a request with IN = [N] it sends N responses, the
    i-th (0-based) carrying OUT = [N] and IDX = [i], then a final empty
    response flagged TRITONSERVER_RESPONSE_COMPLETE_FINAL. N <= 0 yields only
    the final flag (no data responses); N > MAX_RESPONSES is treated as
    MAX_RESPONSES (OUT still echoes the original N)."""

    def initialize(self, args):
        self.model_name = args["model_name"]

    def execute(self, requests):
        for request in requests:
            record_request(self.model_name, request)
            sender = request.get_response_sender()
            count = int(pb_utils.get_input_tensor_by_name(request, "IN").as_numpy().reshape(-1)[0])
            for index in range(min(max(count, 0), MAX_RESPONSES)):
                sender.send(pb_utils.InferenceResponse(output_tensors=[
                    pb_utils.Tensor("OUT", np.array([count], dtype=np.int32)),
                    pb_utils.Tensor("IDX", np.array([index], dtype=np.int32)),
                ]))
            sender.send(flags=pb_utils.TRITONSERVER_RESPONSE_COMPLETE_FINAL)
        return None
