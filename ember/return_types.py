"""``ember.return_types``: the named tuples that ops with several results return, as in
``torch.return_types`` (``values, indices = x.max(1)``, ``x.max(1).values``).

# NOTE [ Return types ]
Each is a tuple subclass made by ``structseq(name, fields)``, registered here under the op's
name, with PyTorch's repr (``ember.return_types.max(\\nvalues=...,\\nindices=...)``), attribute
access by field name and pickling. Ops build them with ``return_types.<name>((a, b))``.
"""

from __future__ import annotations

import sys


def structseq(name: str, fields: tuple) -> type:
    """Define (and register in this module) the return type ``name`` with ``fields``."""
    mod = sys.modules[__name__]
    if hasattr(mod, name):
        existing = getattr(mod, name)
        if existing._fields != tuple(fields):
            raise ValueError(f"return type {name!r} is already defined with other fields")
        return existing

    def __new__(cls, seq):
        seq = tuple(seq)
        if len(seq) != len(fields):
            raise TypeError(f"{__name__}.{name} takes a {len(fields)}-sequence "
                            f"({len(seq)}-sequence given)")
        return tuple.__new__(cls, seq)

    def __repr__(self):
        body = ",\n".join(f"{f}={v!r}" for f, v in zip(fields, self))
        return f"{__name__}.{name}(\n{body})"

    def __reduce__(self):
        return (type(self), (tuple(self),))

    ns = {"__new__": __new__, "__repr__": __repr__, "__str__": __repr__,
          "__reduce__": __reduce__, "__slots__": (), "__module__": __name__,
          "__qualname__": name, "_fields": tuple(fields), "n_fields": len(fields),
          "n_sequence_fields": len(fields), "n_unnamed_fields": 0}
    for i, f in enumerate(fields):
        ns[f] = property(lambda self, i=i: tuple.__getitem__(self, i), doc=f"Field {i}.")
    cls = type(name, (tuple,), ns)
    setattr(mod, name, cls)
    return cls


for _name in ("max", "min", "sort", "topk", "kthvalue", "median", "nanmedian", "mode",
              "cummax", "cummin"):
    structseq(_name, ("values", "indices"))
