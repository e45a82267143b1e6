"""Triton python-backend test model `identity_fp32_cached` for swift-perf-analyzer tests."""
import os
import sys

# The model code lives in Tests/TritonSupport, shared by the identity models.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "TritonSupport"))
from identity_model import TritonPythonModel  # noqa: E402,F401
