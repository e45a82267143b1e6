"""The identity model shared by identity_fp32, identity_int32, identity_int32_dynamic and
identity_bytes: the i-th configured input comes back as the i-th configured output."""
import json

import triton_python_backend_utils as pb_utils
from request_recorder import record_request


class TritonPythonModel:
    """Returns every input unchanged: the i-th configured input becomes the
    i-th configured output (INPUT0 -> OUTPUT0)."""

    def initialize(self, args):
        self.model_name = args["model_name"]
        config = json.loads(args["model_config"])
        self.pairs = list(zip([i["name"] for i in config["input"]],
                              [o["name"] for o in config["output"]]))

    def execute(self, requests):
        responses = []
        for request in requests:
            record_request(self.model_name, request)
            outputs = []
            for in_name, out_name in self.pairs:
                tensor = pb_utils.get_input_tensor_by_name(request, in_name)
                outputs.append(pb_utils.Tensor(out_name, tensor.as_numpy()))
            responses.append(pb_utils.InferenceResponse(output_tensors=outputs))
        return responses
