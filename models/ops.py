"""The SSM ops the layers call (ssmdoc.kernels), imported in one place."""

try:
    from ssmdoc.kernels import causal_conv1d, selective_scan, selective_state_update, ssd_scan
except ImportError:  # TEMPORARY: until the kernels package exports its ops
    from ._ops_fallback import causal_conv1d, selective_scan, selective_state_update, ssd_scan

__all__ = ["causal_conv1d", "selective_scan", "selective_state_update", "ssd_scan"]
