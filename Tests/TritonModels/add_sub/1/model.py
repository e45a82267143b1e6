"""Triton python-backend test model `add_sub` for swift-perf-analyzer tests."""
import os
import sys

import numpy as np
import triton_python_backend_utils as pb_utils

# Recording lives in Tests/TritonSupport, shared by every test model.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "TritonSupport"))
from request_recorder import record_request  # noqa: E402


class TritonPythonModel:
    """OUTPUT0 = INPUT0 + INPUT1, OUTPUT1 = INPUT0 - INPUT1 (INT32, wrapping)."""

    def initialize(self, args):
        self.model_name = args["model_name"]

    def execute(self, requests):
        responses = []
        for request in requests:
            record_request(self.model_name, request)
            a = pb_utils.get_input_tensor_by_name(request, "INPUT0").as_numpy()
            b = pb_utils.get_input_tensor_by_name(request, "INPUT1").as_numpy()
            # numpy int32 array arithmetic wraps around silently on overflow.
            total = (a + b).astype(np.int32)
            diff = (a - b).astype(np.int32)
            responses.append(pb_utils.InferenceResponse(output_tensors=[
                pb_utils.Tensor("OUTPUT0", total),
                pb_utils.Tensor("OUTPUT1", diff),
            ]))
        return responses
