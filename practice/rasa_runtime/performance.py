"""Hot-path fixes for Rasa 3.6, each found by profiling (docs/BENCHMARKS.md, "Findings").

None changes what the assistant answers; each removes work Rasa repeats on every message:

* `preload()` imports skops (which loads the intent classifier) before TensorFlow. skops
  builds its trusted-type lists at import by searching every loaded module for each numpy
  ufunc; with TensorFlow and jax loaded (6,000 modules) that costs about 5 s of CPU at
  start and in training, against 1 s before them.
* the prediction graph runs node by node in a fixed order instead of through dask, whose
  scheduler cost more per message than several of the components it ran;
* the action server's reply is checked against a schema compiled once, instead of
  `jsonschema.validate`, which re-checks the schema itself on every call;
* an event's class is found by a dictionary lookup instead of walking every `Event`
  subclass (with `inspect.isabstract`) for each event loaded from the tracker store;
* the intent classifier's input is the message's sparse features as they are, instead of
  stacking them with an empty dense block and re-stacking the single row;
* whether the domain is empty is checked against the empty domain's dictionary made once,
  instead of building a whole empty `Domain` (default intents, actions and slots) for the
  comparison on every message;
* once the model is loaded, everything alive is frozen out of the garbage collector: with
  TensorFlow, Rasa and the model loaded, a full collection walks 540,000 objects (200 ms
  here, a stall for every visitor waiting at that moment) and finds nothing to free. Full
  collections are rare (none in 3,000 messages), so this guards the tail, not the mean.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from typing import Any, Callable, Dict, List, Sequence, Tuple, Type

logger = logging.getLogger(__name__)
_installed = False


def preload() -> None:
    """Import what is cheaper to import before Rasa pulls in TensorFlow."""
    with contextlib.suppress(ImportError):  # skops ships with Rasa 3.6
        import skops.io  # noqa: F401 - the import is the point


def install() -> None:
    """Apply every fix to the Rasa modules of this process (idempotent)."""
    global _installed
    if _installed:
        return
    _install_sequential_runner()
    _install_compiled_action_schema()
    _install_event_type_lookup()
    _install_sparse_only_classifier_input()
    _install_empty_domain_once()
    _install_gc_freeze_after_model_load()
    _installed = True


def _topological_order(nodes: Dict[str, Any], inputs: Sequence[str]) -> List[str]:
    """Node names so that each comes after everything it needs (inputs are given)."""
    order: List[str] = []
    done = set(inputs)
    visiting: set = set()

    def visit(name: str) -> None:
        if name in done:
            return
        if name in visiting:
            raise ValueError(f"cycle in the graph at '{name}'")
        visiting.add(name)
        for needed in nodes[name].needs.values():
            if needed in nodes:
                visit(needed)
        visiting.discard(name)
        done.add(name)
        order.append(name)

    for name in sorted(nodes):
        visit(name)
    return order


def _install_sequential_runner() -> None:
    import rasa.core.processor

    rasa.core.processor.DaskGraphRunner = sequential_graph_runner()


@functools.lru_cache(maxsize=1)
def sequential_graph_runner() -> type:
    """The `SequentialGraphRunner` class (built on first use: it subclasses Rasa's runner)."""
    from rasa.engine.exceptions import GraphRunError
    from rasa.engine.runner.dask import DaskGraphRunner

    class SequentialGraphRunner(DaskGraphRunner):
        """Runs the prediction graph in one precomputed order, without dask's scheduler.

        Same nodes, same inputs, same results and errors as `DaskGraphRunner`; the plan
        for each set of targets and inputs is computed once.
        """

        _plans: Dict[Tuple[Tuple[str, ...], Tuple[str, ...]], Any]

        def run(
            self,
            inputs: Dict[str, Any] | None = None,
            targets: List[str] | None = None,
        ) -> Dict[str, Any]:
            """Run the graph (see `GraphRunner.run`)."""
            run_targets = targets if targets else self._graph_schema.target_names
            inputs = inputs or {}
            key = (tuple(run_targets), tuple(sorted(inputs)))
            plans = self.__dict__.setdefault("_plans", {})
            plan = plans.get(key)
            for value in inputs.values():
                if isinstance(value, str) and value in self._graph_schema.nodes:
                    raise GraphRunError(f"Input value '{value}' clashes with a node name.")
            if plan is None:
                schema = self._graph_schema.minimal_graph_schema(run_targets)
                order = _topological_order(schema.nodes, list(inputs))
                plan = [
                    (name, self._instantiated_nodes[name], list(schema.nodes[name].needs.values())) for name in order
                ]
                plans[key] = plan
            results: Dict[str, Any] = {name: (name, value) for name, value in inputs.items()}
            try:
                for name, node, needs in plan:
                    # As in dask, a need that names no node or input is passed as is.
                    results[name] = node(*(results.get(n, n) for n in needs))
            except RuntimeError as error:
                raise GraphRunError("Error running runner.") from error
            return dict(results[target] for target in run_targets)

    return SequentialGraphRunner


def _install_compiled_action_schema() -> None:
    from jsonschema import validators
    from jsonschema.exceptions import best_match
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    spec = RemoteAction.action_response_format_spec()
    validator_class = validators.validator_for(spec)
    validator_class.check_schema(spec)
    validator = validator_class(spec)

    def _validate_action_result(self: RemoteAction, result: Dict[str, Any]) -> bool:
        error = best_match(validator.iter_errors(result))
        if error is None:
            return True
        error.message += (
            ". Failed to validate Action server response from API, make sure your response "
            "from the Action endpoint is valid. For more information about the format "
            f"visit {DOCS_BASE_URL}/custom-actions"
        )
        raise error

    RemoteAction._validate_action_result = _validate_action_result


def _install_event_type_lookup() -> None:
    from rasa.shared.core.events import Event

    original: Callable[..., Type[Event] | None] = Event.resolve_by_type
    known: Dict[str, Type[Event]] = {}

    def resolve_by_type(type_name: str, default: Type[Event] | None = None) -> Type[Event] | None:
        found = known.get(type_name)
        if found is None:
            found = original(type_name, default)
            if found is not None and found is not default:
                known[type_name] = found
        return found

    Event.resolve_by_type = staticmethod(resolve_by_type)


def _install_sparse_only_classifier_input() -> None:
    from rasa.nlu.classifiers.logistic_regression_classifier import (
        LogisticRegressionClassifier,
    )
    from rasa.shared.nlu.constants import TEXT
    from scipy.sparse import csr_matrix, vstack

    original = LogisticRegressionClassifier._create_X

    def _create_X(self: LogisticRegressionClassifier, messages: List[Any]) -> Any:
        rows = []
        for message in messages:
            sparse = message.get_sparse_features(attribute=TEXT)[1]
            if sparse is None or message.get_dense_features(attribute=TEXT)[1] is not None:
                return original(self, messages)  # dense features too: Rasa's own stacking
            # Rasa's hstack with an empty float block yields float64: keep that dtype.
            rows.append(csr_matrix(sparse.features, dtype="float64"))
        if len(rows) == 1:
            return rows[0]
        return vstack(rows, format="csr")

    _create_X.__wrapped_original__ = original  # type: ignore[attr-defined]
    LogisticRegressionClassifier._create_X = _create_X


def _install_empty_domain_once() -> None:
    from rasa.shared.core.domain import Domain

    original = Domain.is_empty
    empty: List[Dict[str, Any]] = []

    def is_empty(self: Domain) -> bool:
        """Rasa's `self.as_dict() == Domain.empty().as_dict()`, the right side made once."""
        if not empty:
            empty.append(Domain.empty().as_dict())
        return self.as_dict() == empty[0]

    is_empty.__wrapped_original__ = original  # type: ignore[attr-defined]
    Domain.is_empty = is_empty


def freezing_after(load: Callable[..., Any]) -> Callable[..., Any]:
    """`load` (a coroutine function), then everything alive frozen out of the collector."""
    import gc

    async def load_then_freeze(*args: Any, **kwargs: Any) -> Any:
        loaded = await load(*args, **kwargs)
        gc.collect()
        gc.freeze()
        logger.debug("Froze %d objects out of the garbage collector.", gc.get_freeze_count())
        return loaded

    load_then_freeze.freezes_after = load  # type: ignore[attr-defined]
    return load_then_freeze


def _install_gc_freeze_after_model_load() -> None:
    import rasa.core.run

    # `serve_application` looks the listener up by this module-level name when it starts.
    rasa.core.run.load_agent_on_start = freezing_after(rasa.core.run.load_agent_on_start)
