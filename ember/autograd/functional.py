"""Higher-level autograd functions: jacobian, hessian, vjp, jvp, hvp, vhp.

As ``torch.autograd.functional``: inputs are a Tensor or a tuple of Tensors, and results come
back in the same structure (a Tensor for a Tensor, tuples for tuples). Everything is reverse
mode. Forward-mode products (``jvp``, ``hvp`` and ``strategy="forward-mode"``) use the
double-backward trick, as PyTorch's ``jvp`` does: the vector-Jacobian product ``u -> J^T u`` is
linear in ``u``, so differentiating it with respect to ``u`` along ``v`` gives ``J v``. With
``vectorize=True`` the rows come from one ``grad(..., is_grads_batched=True)`` call (a loop in
ember, as there is no vmap) and give the same values.
"""

from __future__ import annotations

from .. import _creation
from .._tensor import Tensor
from . import grad_mode

__all__ = ["vjp", "jvp", "jacobian", "hessian", "hvp", "vhp"]


def _as_tuple(inp, arg_name: str, fn_name: str) -> tuple:
    """``(was_tuple, tuple_of_tensors)``, with PyTorch's TypeError for anything else."""
    is_tuple = isinstance(inp, tuple)
    if not is_tuple:
        inp = (inp,)
    for i, el in enumerate(inp):
        if not isinstance(el, Tensor):
            where = f"value at index {i}" if is_tuple else f"given {arg_name}"
            raise TypeError(f"The {arg_name} given to {fn_name} must be either a Tensor or a "
                            f"tuple of Tensors but the {where} has type {type(el)}.")
    return is_tuple, inp


def _unpack(res, is_tuple):
    """Undo the tupling: ``is_tuple`` is a bool, or (outer, inner) for nested results."""
    if isinstance(is_tuple, tuple):
        if not is_tuple[1]:
            res = tuple(el[0] for el in res)
        is_tuple = is_tuple[0]
    return res if is_tuple else res[0]


def _preprocess(inputs, create_graph: bool, need_graph: bool) -> tuple:
    # a view keeps the graph to the caller's tensors when create_graph asks for it
    return tuple(t.view_as(t) if create_graph and t.requires_grad else
                 t.detach().requires_grad_(need_graph) for t in inputs)


def _postprocess(inputs, create_graph: bool):
    if isinstance(inputs[0], Tensor):
        return inputs if create_graph else tuple(t.detach() for t in inputs)
    return tuple(_postprocess(t, create_graph) for t in inputs)


def _validate_v(v, other, is_other_tuple: bool) -> None:
    if len(other) != len(v):
        if is_other_tuple:
            raise RuntimeError(
                f"v is a tuple of invalid length: should be {len(other)} but got {len(v)}.")
        raise RuntimeError("The given v should contain a single Tensor.")
    for idx, (a, b) in enumerate(zip(v, other)):
        if a.size() != b.size():
            prefix = f"Entry {idx} in " if is_other_tuple else ""
            raise RuntimeError(
                f"{prefix}v has invalid size: should be {b.size()} but got {a.size()}.")


_INDEPENDENT = {
    "hessian": "The hessian of the user-provided function with respect to input {i} is "
               "independent of the input. This is not allowed in strict mode. You should "
               "ensure that your function is thrice differentiable and that the hessian "
               "depends on the inputs.",
    "jacobian": "While computing the hessian, found that the jacobian of the user-provided "
                "function with respect to input {i} is independent of the input. This is not "
                "allowed in strict mode. You should ensure that your function is twice "
                "differentiable and that the jacobian depends on the inputs (this would be "
                "violated by a linear function for example).",
    "grad_inputs": "The gradient with respect to input {i} is independent of the inputs of "
                   "the user-provided function. This is not allowed in strict mode.",
    "outputs": "Output {i} of the user-provided function does not require gradients. The "
               "outputs must be computed in a differentiable manner from the input when "
               "running in strict mode.",
}


def _check_requires_grad(tensors, kind: str, strict: bool) -> None:
    if not strict:
        return
    for i, t in enumerate(tensors):
        if t is None:
            raise RuntimeError(f"The output of the user-provided function is independent of "
                               f"input {i}. This is not allowed in strict mode.")
        if not t.requires_grad:
            raise RuntimeError(_INDEPENDENT[kind].format(i=i))


def _autograd_grad(outputs, inputs, grad_outputs=None, create_graph=False,
                   retain_graph=None, is_grads_batched=False) -> tuple:
    """``autograd.grad`` over the outputs that require grad (None for unused inputs)."""
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs) if o is not None and o.requires_grad]
    if not pairs:
        return (None,) * len(inputs)
    outs, gos = zip(*pairs)
    from . import grad  # (import cycle: the package imports this module)
    return grad(outs, inputs, gos, allow_unused=True, create_graph=create_graph,
                 retain_graph=retain_graph, is_grads_batched=is_grads_batched)


_ZERO_FILL = {
    "back": "The output of the user-provided function is independent of input {i}. This is "
            "not allowed in strict mode.",
    "back_trick": "The gradient with respect to the input is independent of entry {i} in the "
                  "grad_outputs when using the double backward trick to compute forward mode "
                  "gradients. This is not allowed in strict mode.",
    "double_back": "The jacobian of the user-provided function is independent of input {i}. "
                   "This is not allowed in strict mode.",
    "double_back_trick": "The hessian of the user-provided function is independent of entry "
                         "{i} in the grad_jacobian. This is not allowed in strict mode as it "
                         "prevents from using the double backward trick to replace forward "
                         "mode AD.",
}


def _fill_in_zeros(grads, refs, strict: bool, create_graph: bool, stage: str) -> tuple:
    res = []
    for i, g in enumerate(grads):
        if g is None:
            if strict:
                raise RuntimeError(_ZERO_FILL[stage].format(i=i))
            g = _creation.zeros_like(refs[i])
        elif strict and create_graph and not g.requires_grad:
            what = "hessian" if "double" in stage else "jacobian"
            raise RuntimeError(f"The {what} of the user-provided function is independent of "
                               f"input {i}. This is not allowed in strict mode when "
                               "create_graph=True.")
        res.append(g)
    return tuple(res)


def _prepare(fn_name, func, inputs, v, create_graph, strict, v_like_outputs=False):
    """Shared start of vjp/jvp/vhp/hvp: tupled inputs, checked v, the function's outputs."""
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", fn_name)
    inputs = _preprocess(inputs, create_graph, need_graph=True)
    if v is not None:
        _, v = _as_tuple(v, "v", fn_name)
        v = _preprocess(v, create_graph, need_graph=False)
        if not v_like_outputs:
            _validate_v(v, inputs, is_inputs_tuple)
    elif not v_like_outputs and (len(inputs) != 1 or inputs[0].nelement() != 1):
        raise RuntimeError(
            "The vector v can only be None if the input to the user-provided function is a "
            "single Tensor with a single element.")
    is_outputs_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided function",
                                          fn_name)
    _check_requires_grad(outputs, "outputs", strict)
    return is_inputs_tuple, inputs, v, is_outputs_tuple, outputs


def vjp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """``(func(inputs), v^T J)``: the vector-Jacobian product at ``inputs``::

        out, g = ember.autograd.functional.vjp(lambda x: x ** 2, x, ember.ones(3))  # g = 2x
    """
    with grad_mode.enable_grad():
        is_inputs_tuple, inputs, v, is_outputs_tuple, outputs = _prepare(
            "vjp", func, inputs, v, create_graph, strict, v_like_outputs=True)
        if v is not None:
            _validate_v(v, outputs, is_outputs_tuple)
        elif len(outputs) != 1 or outputs[0].nelement() != 1:
            raise RuntimeError("The vector v can only be None if the user-provided function "
                               "returns a single Tensor with a single element.")
    with grad_mode.set_grad_enabled(create_graph or grad_mode.is_grad_enabled()):
        res = _autograd_grad(outputs, inputs, v, create_graph=create_graph)
        res = _fill_in_zeros(res, inputs, strict, create_graph, "back")
    return (_unpack(_postprocess(outputs, create_graph), is_outputs_tuple),
            _unpack(_postprocess(res, create_graph), is_inputs_tuple))


def jvp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """``(func(inputs), J v)``: the Jacobian-vector product, by the double-backward trick::

        out, t = ember.autograd.functional.jvp(lambda x: x ** 2, x, ember.ones(3))  # t = 2x
    """
    with grad_mode.enable_grad():
        is_inputs_tuple, inputs, v, is_outputs_tuple, outputs = _prepare(
            "jvp", func, inputs, v, create_graph, strict)
        grad_outputs = tuple(_creation.zeros_like(o, requires_grad=True) for o in outputs)
        grad_inputs = _autograd_grad(outputs, inputs, grad_outputs, create_graph=True)
        _check_requires_grad(grad_inputs, "grad_inputs", strict)
    with grad_mode.set_grad_enabled(create_graph or grad_mode.is_grad_enabled()):
        res = _autograd_grad(grad_inputs, grad_outputs, v, create_graph=create_graph)
        res = _fill_in_zeros(res, outputs, strict, create_graph, "back_trick")
    return (_unpack(_postprocess(outputs, create_graph), is_outputs_tuple),
            _unpack(_postprocess(res, create_graph), is_outputs_tuple))


def _basis(tensors) -> tuple:
    """Rows of the identity over all of ``tensors``' elements, split per tensor: chunk k is
    (total, numel_k) (PyTorch's ``_construct_standard_basis_for``)."""
    numels = [t.numel() for t in tensors]
    total = sum(numels)
    chunks, start = [], 0
    for t, n in zip(tensors, numels):
        c = t.new_zeros(total, n)
        c.diagonal(-start).fill_(1)
        start += n
        chunks.append(c)
    return tuple(chunks)


def _jacobian_forward(func, inputs, vectorize: bool, strict: bool):
    """``strategy="forward-mode"``: one Jacobian-vector product per input element (the
    double-backward trick, where PyTorch uses forward AD and vmap; same values)."""
    if strict:
        raise RuntimeError(
            'torch.autograd.functional.jacobian: `strict=True` and `strategy="forward-mode"` '
            'are not supported together (yet). Please either set `strict=False` or '
            '`strategy="reverse-mode"`.'.replace("torch.", "ember."))
    if not vectorize:
        raise NotImplementedError(
            "Computing Jacobian using forward-AD or forward-over-reverse Hessian is"
            "only implemented for `vectorize=True`.")
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
    numels = [t.numel() for t in inputs]
    total = sum(numels)
    tangents = tuple(b.reshape((total, *t.shape)) for b, t in zip(_basis(inputs), inputs))
    with grad_mode.enable_grad():
        inputs = tuple(t.detach().requires_grad_(True) for t in inputs)
        is_outputs_tuple, outputs = _as_tuple(func(*inputs), "outputs", "jacobian")
        grad_outputs = tuple(_creation.zeros_like(o, requires_grad=True) for o in outputs)
        grad_inputs = _autograd_grad(outputs, inputs, grad_outputs, create_graph=True)
    pairs = [(g, t) for g, t in zip(grad_inputs, tangents) if g is not None]
    if pairs:
        jvps = _autograd_grad(tuple(g for g, _ in pairs), grad_outputs,
                              tuple(t for _, t in pairs), is_grads_batched=True)
    else:
        jvps = (None,) * len(outputs)
    jac = []
    for o, jv in zip(outputs, jvps):
        rows = o.new_zeros((total, *o.shape)) if jv is None else jv.detach()
        parts = rows.split(numels, dim=0)
        jac.append([p.permute(*range(1, p.ndim), 0).reshape((*o.shape, *t.shape))
                    for p, t in zip(parts, inputs)])
    # lists, not tuples, as PyTorch's forward-mode path returns them
    return _unpack(jac, (is_outputs_tuple, is_inputs_tuple))


def jacobian(func, inputs, create_graph: bool = False, strict: bool = False,
             vectorize: bool = False, strategy: str = "reverse-mode"):
    """The Jacobian of ``func`` at ``inputs``: for output i and input j a tensor of shape
    ``out_i.shape + in_j.shape``, nested as the outputs and inputs are::

        ember.autograd.functional.jacobian(lambda x: x.exp(), ember.zeros(2))  # eye(2)
    """
    if strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError(
            'Expected strategy to be either "forward-mode" or "reverse-mode". Hint: If your '
            'function has more outputs than inputs, "forward-mode" tends to be more '
            'performant. Otherwise, prefer to use "reverse-mode".')
    if strategy == "forward-mode":
        if create_graph:
            raise NotImplementedError(
                "ember.autograd.functional.jacobian: `create_graph=True` and "
                '`strategy="forward-mode"` are not supported together (yet). Please either set '
                '`create_graph=False` or `strategy="reverse-mode"`.')
        return _jacobian_forward(func, inputs, vectorize, strict)
    with grad_mode.enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
        inputs = _preprocess(inputs, create_graph, need_graph=True)
        is_outputs_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided "
                                              "function", "jacobian")
        _check_requires_grad(outputs, "outputs", strict)
        if vectorize:
            jac = _jacobian_vectorized(inputs, outputs, create_graph, strict)
        else:
            jac = tuple(_jacobian_rows(i, o, inputs, create_graph, strict)
                        for i, o in enumerate(outputs))
        return _unpack(_postprocess(jac, create_graph), (is_outputs_tuple, is_inputs_tuple))


def _jacobian_rows(i, out, inputs, create_graph, strict) -> tuple:
    """d out / d inputs, one backward per element of ``out``."""
    rows = tuple([] for _ in inputs)
    flat = out.reshape(-1)
    for j in range(out.nelement()):
        vj = _autograd_grad((flat[j],), inputs, retain_graph=True, create_graph=create_graph)
        for k, (g, x) in enumerate(zip(vj, inputs)):
            if g is None:
                if strict:
                    raise RuntimeError(f"Output {i} of the user-provided function is "
                                       f"independent of input {k}. This is not allowed in "
                                       "strict mode.")
                g = _creation.zeros_like(x)
            elif strict and create_graph and not g.requires_grad:
                raise RuntimeError(f"The jacobian of the user-provided function is independent "
                                   f"of input {i}. This is not allowed in strict mode when "
                                   "create_graph=True.")
            rows[k].append(g)
    from .._functional import stack
    return tuple(stack(r, 0).view(out.size() + x.size()) for r, x in zip(rows, inputs))


def _jacobian_vectorized(inputs, outputs, create_graph, strict) -> tuple:
    if strict:
        raise RuntimeError(
            "ember.autograd.functional.jacobian: `strict=True` and `vectorized=True` are not "
            "supported together. Please either set `strict=False` or `vectorize=False`.")
    numels = [o.numel() for o in outputs]
    total = sum(numels)
    flat = tuple(o.reshape(-1) for o in outputs)
    vj = list(_autograd_grad(flat, inputs, _basis(outputs), create_graph=create_graph,
                             is_grads_batched=True))
    for k, g in enumerate(vj):
        if g is None:
            vj[k] = _creation.zeros_like(inputs[k]).expand((total, *inputs[k].shape))
    per_input = [tuple(part.view(o.shape + x.shape) for part, o in
                       zip(g.split(numels, dim=0), outputs)) for g, x in zip(vj, inputs)]
    return tuple(zip(*per_input))


def hessian(func, inputs, create_graph: bool = False, strict: bool = False,
            vectorize: bool = False, outer_jacobian_strategy: str = "reverse-mode"):
    """The Hessian of a scalar function: for inputs i, j a tensor of shape
    ``in_i.shape + in_j.shape``::

        ember.autograd.functional.hessian(lambda x: (x ** 3).sum(), x)  # diag(6x)
    """
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")
    if outer_jacobian_strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode".')

    def single_output(*inp):
        out = func(*inp)
        is_out_tuple, t_out = _as_tuple(out, "outputs of the user-provided function", "hessian")
        _check_requires_grad(t_out, "outputs", strict)
        if is_out_tuple or not isinstance(out, Tensor):
            raise RuntimeError("The function given to hessian should return a single Tensor")
        if out.nelement() != 1:
            raise RuntimeError("The Tensor returned by the function given to hessian should "
                               "contain a single element")
        return out.squeeze()

    def jac_func(*inp):
        jac = jacobian(single_output, inp, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict)
        return jac

    res = jacobian(jac_func, inputs, create_graph=create_graph, strict=strict,
                   vectorize=vectorize, strategy=outer_jacobian_strategy)
    return _unpack(res, (is_inputs_tuple, is_inputs_tuple))


def _scalar_output(fn_name, outputs, is_outputs_tuple) -> None:
    if is_outputs_tuple or not isinstance(outputs[0], Tensor):
        raise RuntimeError(f"The function given to {fn_name} should return a single Tensor")
    if outputs[0].nelement() != 1:
        raise RuntimeError(f"The Tensor returned by the function given to {fn_name} should "
                           "contain a single element")


def vhp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """``(func(inputs), v^T H)`` for a scalar function::

        out, r = ember.autograd.functional.vhp(lambda x: (x ** 3).sum(), x, v)  # 6 x v
    """
    with grad_mode.enable_grad():
        is_inputs_tuple, inputs, v, is_outputs_tuple, outputs = _prepare(
            "vhp", func, inputs, v, create_graph, strict)
        _scalar_output("vhp", outputs, is_outputs_tuple)
        jac = _autograd_grad(outputs, inputs, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict)
    with grad_mode.set_grad_enabled(create_graph or grad_mode.is_grad_enabled()):
        res = _autograd_grad(jac, inputs, v, create_graph=create_graph)
        res = _fill_in_zeros(res, inputs, strict, create_graph, "double_back")
    return (_unpack(_postprocess(outputs, create_graph), is_outputs_tuple),
            _unpack(_postprocess(res, create_graph), is_inputs_tuple))


def hvp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """``(func(inputs), H v)`` for a scalar function, by the double-backward trick::

        out, r = ember.autograd.functional.hvp(lambda x: (x ** 3).sum(), x, v)  # 6 x v
    """
    with grad_mode.enable_grad():
        is_inputs_tuple, inputs, v, is_outputs_tuple, outputs = _prepare(
            "hvp", func, inputs, v, create_graph, strict)
        _scalar_output("hvp", outputs, is_outputs_tuple)
        jac = _autograd_grad(outputs, inputs, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict)
        grad_jac = tuple(_creation.zeros_like(x, requires_grad=True) for x in inputs)
        double_back = _autograd_grad(jac, inputs, grad_jac, create_graph=True)
        _check_requires_grad(jac, "hessian", strict)
    with grad_mode.set_grad_enabled(create_graph or grad_mode.is_grad_enabled()):
        res = _autograd_grad(double_back, grad_jac, v, create_graph=create_graph)
        res = _fill_in_zeros(res, inputs, strict, create_graph, "double_back_trick")
    return (_unpack(_postprocess(outputs, create_graph), is_outputs_tuple),
            _unpack(_postprocess(res, create_graph), is_inputs_tuple))
