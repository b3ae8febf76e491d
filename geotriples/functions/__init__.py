"""FnO function execution (RML-FNML, legacy fnml, GeoTriples rrx) over Arrow arrays.

A function is registered with its IRI and receives its inputs as Arrow arrays (or scalars),
keyed by parameter IRI (``arg0``, ``arg1``... for positional rrx arguments). It returns
``(values, natural_datatype)``; geometry functions get the batch's decoded geometries.
"""
from __future__ import annotations

from eolinked.errors import EolinkedError

from ..values import Values, combine
from . import spatial, text

REGISTRY = {**text.FUNCTIONS, **spatial.FUNCTIONS}


def call_function(call, ctx, evaluate) -> Values:
    entry = REGISTRY.get(call.function)
    if entry is None:
        known = ", ".join(sorted(k.rsplit("#", 1)[-1].rsplit("/", 1)[-1] for k in REGISTRY))
        raise EolinkedError(f"triples map {ctx.tm_name} calls unknown function <{call.function}>",
                            where=ctx.source_path, hint=f"functions eolinked knows: {known}")
    impl, params = entry
    if call.output is not None and call.output not in text.OUTPUTS:
        raise EolinkedError(f"function <{call.function}> has no output <{call.output}>",
                            where=ctx.source_path, hint="use rml:return with the function's declared output, "
                                                        "e.g. grel:stringOut")
    names = [p for p, _ in call.inputs]
    unknown = [p for p in names if p not in params and not p.startswith("arg")]
    if unknown:
        raise EolinkedError(f"function <{call.function}> has no parameter {', '.join(unknown)}",
                            where=ctx.source_path, hint=f"its parameters: {', '.join(params)}")
    if getattr(impl, "spatial", False):
        return impl(call, ctx, evaluate)
    inputs = [evaluate(tm, ctx) for _, tm in call.inputs]
    positions = {p if not p.startswith("arg") else params[int(p[3:])]: i for i, p in enumerate(names)}
    return combine(inputs, lambda arrs: impl({p: arrs[i] for p, i in positions.items()}), ctx.n, typed=True)
