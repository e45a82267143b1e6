"""Triton python-backend test model `bls_add_sub_identity` for swift-perf-analyzer tests.

A BLS model: each request calls `add_sub`, then `identity_int32` on the sum, the way
the ensemble `ensemble_add_sub_identity` does it with a schedule. Triton cannot tell
perf-analyzer which models a BLS model calls; `--bls-composing-models` names them.
"""
import os
import sys

import triton_python_backend_utils as pb_utils

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "TritonSupport"))
from request_recorder import record_request  # noqa: E402


def _call(model, inputs, outputs):
    response = pb_utils.InferenceRequest(
        model_name=model, requested_output_names=outputs, inputs=inputs).exec()
    if response.has_error():
        raise pb_utils.TritonModelException(f"{model}: {response.error().message()}")
    return [pb_utils.get_output_tensor_by_name(response, name) for name in outputs]


class TritonPythonModel:
    """OUTPUT0 = identity_int32(add_sub(INPUT0, INPUT1).OUTPUT0), OUTPUT1 = the difference."""

    def initialize(self, args):
        self.model_name = args["model_name"]

    def execute(self, requests):
        responses = []
        for request in requests:
            record_request(self.model_name, request)
            a = pb_utils.get_input_tensor_by_name(request, "INPUT0")
            b = pb_utils.get_input_tensor_by_name(request, "INPUT1")
            total, diff = _call("add_sub", [a, b], ["OUTPUT0", "OUTPUT1"])
            (same,) = _call("identity_int32", [pb_utils.Tensor("INPUT0", total.as_numpy())], ["OUTPUT0"])
            responses.append(pb_utils.InferenceResponse(output_tensors=[
                pb_utils.Tensor("OUTPUT0", same.as_numpy()),
                pb_utils.Tensor("OUTPUT1", diff.as_numpy()),
            ]))
        return responses
