"""The backward engine.

# NOTE [ Backward engine ]
``run_backward`` walks the graph from the roots by dependency count: a node runs once every
node that feeds it a gradient has run, so gradients reaching it along several paths are summed
first. Ready nodes run most-recent first (by creation sequence), PyTorch's order, which hooks
can observe. For ``autograd.grad`` and ``backward(inputs=...)`` only nodes on a path to the
requested inputs run; their gradients are captured (``grad``) or accumulated (``backward``).
Before an input gradient is passed on it is reduced to the input's shape (broadcasting) and
cast to its dtype: generic rules, so VJPs may return gradients of the output's shape.
VJPs run under no-grad unless ``create_graph`` asks for a differentiable backward.
"""

from __future__ import annotations

import heapq

from . import grad_mode
from .graph import AccumulateGrad, GraphRoot, grad_edge


def _validate(g, meta, node, i):
    shape, dt = meta
    if g._data.shape != shape:
        try:
            g = g.sum_to_size(shape)
        except RuntimeError:
            raise RuntimeError(
                f"Function {node.name()} returned an invalid gradient at index {i} - got "
                f"{list(g.shape)} but expected shape compatible with {list(shape)}") from None
    if g._data.dtype != dt:
        if g._data.dtype.kind == "c" and dt.kind != "c":
            g = g.real
        g = g.to(g.dtype.__class__ and _FROM_NP(dt))
    return g


def _FROM_NP(dt):
    from .._dtype import FROM_NP
    return FROM_NP[dt]


def _needed(root, targets) -> set:
    """Nodes on some path from ``root`` to one of ``targets`` (iterative post-order)."""
    needed, state = set(), {}
    stack = [root]
    while stack:
        n = stack[-1]
        s = state.get(n)
        if s is None:
            state[n] = 1
            stack.extend(e[0] for e in n.next_functions if e is not None and e[0] not in state)
            continue
        stack.pop()
        if s == 1:
            state[n] = 2
            if n in targets or any(e is not None and e[0] in needed for e in n.next_functions):
                needed.add(n)
    return needed


def _run_hooks(hooks, g):
    for h in hooks:
        r = h(g)
        if r is not None:
            g = r
    return g


def run_backward(roots, grads, retain_graph: bool, create_graph: bool, inputs=None,
                 accumulate: bool = True):
    """Backpropagate ``grads`` from ``roots``. With ``accumulate=False`` returns the gradients
    of ``inputs`` (None where unreached) instead of writing ``.grad``."""
    root = GraphRoot([grad_edge(r) for r in roots], grads)
    targets = {}
    if inputs is not None:
        for k, t in enumerate(inputs):
            node, nr = grad_edge(t)
            targets.setdefault(node, []).append((nr, k, t))
    captured = [None] * (len(inputs) if inputs is not None else 0)
    needed = _needed(root, targets) if inputs is not None else None

    deps: dict = {}
    stack, seen = [root], {root}
    while stack:
        n = stack.pop()
        for e in n.next_functions:
            if e is None:
                continue
            nxt = e[0]
            deps[nxt] = deps.get(nxt, 0) + 1
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)

    buffers = {root: []}
    ready = [(0, 0, root)]
    prev_mode = grad_mode.STATE.grad_enabled
    grad_mode.STATE.grad_enabled = create_graph
    try:
        while ready:
            _, _, node = heapq.heappop(ready)
            gs = buffers.pop(node)
            if node._tensor_hooks:
                for nr, hooks in node._tensor_hooks.items():
                    if gs[nr] is not None:
                        gs[nr] = _run_hooks(hooks, gs[nr])
            if isinstance(node, AccumulateGrad) and node.variable._meta is not None:
                gs[0] = _run_hooks(node.variable._meta.hooks, gs[0]) if gs[0] is not None else None
            if node._retained:
                for nr, ref in node._retained.items():
                    t = ref()
                    if t is not None and gs[nr] is not None:
                        t._grad = gs[nr].detach() if t._grad is None else t._grad + gs[nr].detach()
            if node._pre_hooks:
                for h in node._pre_hooks:
                    r = h(tuple(gs))
                    if r is not None:
                        gs = list(r)
            hit = targets.get(node)
            if hit is not None:
                for nr, k, t in hit:
                    g = gs[nr] if nr < len(gs) else None
                    if accumulate:
                        if g is not None and not isinstance(node, AccumulateGrad):
                            t._grad = g if t._grad is None else t._grad + g
                    else:
                        captured[k] = g
                if not accumulate or not isinstance(node, AccumulateGrad):
                    continue
            if needed is not None and node not in needed:
                continue
            outs = node.apply(gs)
            if node._post_hooks:
                for h in node._post_hooks:
                    r = h(tuple(outs), tuple(gs))
                    if r is not None:
                        outs = tuple(r)
            if not retain_graph:
                node.release()
            for i, e in enumerate(node.next_functions):
                if e is None:
                    continue
                nxt, nr = e
                g = outs[i]
                if g is not None and node.in_meta:
                    g = _validate(g, node.in_meta[i], node, i)
                buf = buffers.get(nxt)
                if buf is None:
                    buf = buffers[nxt] = [None] * _num_outputs(nxt)
                if g is not None:
                    buf[nr] = g if buf[nr] is None else buf[nr] + g
                deps[nxt] -= 1
                if deps[nxt] == 0:
                    heapq.heappush(ready, (-nxt.seq, id(nxt), nxt))
    finally:
        grad_mode.STATE.grad_enabled = prev_mode
    return captured


def _num_outputs(node) -> int:
    return getattr(node, "nout", 1) or 1
