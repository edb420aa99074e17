"""TEMPORARY: the kernel reference loops wrapped to the kernel API, until ssmdoc.kernels exports its ops.
Delete once `from ssmdoc.kernels import selective_scan, ...` works."""

from ssmdoc.kernels import reference as _r


def _cast(out, like):
    if isinstance(out, tuple):
        return out[0].to(like.dtype), out[1].float()
    return out.to(like.dtype)


def selective_scan(u, delta, A, B, C, D=None, z=None, delta_bias=None, delta_softplus=False,
                   initial_state=None, return_last_state=False, backend="auto"):
    return _cast(_r.selective_scan_ref(u, delta, A, B, C, D, z, delta_bias, delta_softplus, initial_state,
                                       return_last_state), u)


def ssd_scan(x, dt, A, B, C, chunk_size, D=None, z=None, dt_bias=None, initial_states=None, dt_softplus=False,
             dt_limit=(0.0, float("inf")), return_final_states=False, backend="auto"):
    return _cast(_r.ssd_scan_ref(x, dt, A, B, C, chunk_size, D, z, dt_bias, initial_states, dt_softplus, dt_limit,
                                 return_final_states), x)


def causal_conv1d(x, weight, bias=None, initial_states=None, return_final_states=False, activation=None,
                  backend="auto"):
    out = _r.causal_conv1d_ref(x, weight, bias, initial_states, return_final_states, activation)
    if isinstance(out, tuple):
        return out[0].to(x.dtype), out[1].to(x.dtype)
    return out.to(x.dtype)


def selective_state_update(state, x, dt, A, B, C, D=None, z=None, dt_bias=None, dt_softplus=False,
                           backend="auto"):
    y, s = _r.selective_state_update_ref(state, x, dt, A, B, C, D, z, dt_bias, dt_softplus)
    state.copy_(s)
    return y.to(x.dtype)
