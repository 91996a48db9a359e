# -*- coding: utf-8 -*-
# Copyright (c) netbird_ops.netbird contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The one engine every module runs on: plan every change, then apply them, in one place.

A resource family (users, tokens, approvals, invites, the setup) is a ``Kind``: it plans immutable ``Change``s,
applies one (-> ``Outcome``) and says how results show it; the contract is documented on ``Kind``. The
``BatchRunner`` is one run: it is handed the kind and its settings, and owns the rest: plan-all-then-apply,
prerequisites (``Prerequisite``), stages and lanes, check mode, diff mode, warnings, results, the batch's loop
semantics (``fail_fast``) and the one failure story. It never sees the module or its parameters (``_task.py`` builds
it). Private to netbird_ops.netbird; not a public API.
"""

from __future__ import annotations

from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any, Callable, Dict, Hashable, Iterable, List, NoReturn, Optional, Sequence, Set, Tuple

from ansible_collections.netbird_ops.netbird.plugins.module_utils._errors import (
    AmbiguousWriteError,
    NetBirdAPIError,
    NetBirdError,
    NetBirdInputError,
    OperationFailed,
)
from ansible_collections.netbird_ops.netbird.plugins.module_utils._common import clean

# Past tense of every action, for summaries and "already done" lists.
PAST = {"create": "created", "update": "updated", "delete": "deleted", "rotate": "rotated", "approve": "approved",
        "reject": "rejected", "none": "unchanged"}


# -- what a task asks for --------------------------------------------------------------------------

class Spec:
    """One entry of a task (single mode, or one element of a batch list), read from the module parameters.

    ``keys``: the entry's option names (from the argument spec); ``cleaned``: those stripped, blank meaning unset.
    Subclasses check in ``validate`` only what the argument spec cannot express.
    """

    keys: Tuple[str, ...] = ()
    cleaned: Tuple[str, ...] = ()

    def __init__(self, entry: Dict[str, Any], where: Optional[str] = None) -> None:
        self.where = where  # e.g. "users[2]" in batch mode, None in single mode
        for key in self.keys:
            value = entry.get(key)
            setattr(self, key, clean(value) if key in self.cleaned else value)
        self.validate()

    def opt(self, name: str) -> str:
        """How messages name an option: ``users[2].email`` in batch mode."""
        return "%s.%s" % (self.where, name) if self.where else name

    def fail(self, text: str) -> NoReturn:
        raise NetBirdInputError(text)

    def validate(self) -> None:
        """Rules between options that the argument spec cannot express."""

    def identity(self) -> Hashable:
        """A key that identifies the entry, to find duplicates in a batch before any request."""
        raise NotImplementedError


# -- the change record -----------------------------------------------------------------------------

class Change:
    """One planned change, immutable: the spec, the resource as read, the requests to send and the prediction.

    ``request`` maps step names to request bodies (empty: nothing to do); ``info`` holds what a kind needs to
    show (peers deleted with a user, the existing token a rotation replaces). Recovery paths build a new Change
    with ``evolve``; nothing edits one.
    """

    __slots__ = ("spec", "current", "action", "request", "predicted", "warnings", "info")
    spec: Any
    current: Any
    action: str
    request: Dict[str, Any]
    predicted: Any
    warnings: Tuple[str, ...]
    info: Dict[str, Any]

    def __init__(self, spec: Any, current: Any = None, action: str = "none", request: Optional[Dict[str, Any]] = None,
                 predicted: Any = None, warnings: Iterable[str] = (), info: Optional[Dict[str, Any]] = None) -> None:
        for name, value in (("spec", spec), ("current", current), ("action", action), ("request", dict(request or {})),
                            ("predicted", predicted), ("warnings", tuple(warnings)), ("info", dict(info or {}))):
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("a Change is immutable; use evolve()")

    def evolve(self, **changes: Any) -> "Change":
        values = dict((name, getattr(self, name)) for name in self.__slots__)
        values.update(changes)
        return Change(**values)

    @property
    def changed(self) -> bool:
        return bool(self.request)

    @property
    def label(self) -> str:
        return self.info.get("label") or self.spec.label

    # read-only views of the request steps and facts, for kinds and tests
    def step(self, name: str) -> Any:
        return self.request.get(name)


EXCLUSIVE = ("exclusive",)  # Kind.lane of a change that must run alone


class Outcome:
    """What applying (part of) a change did: the resource afterwards, secrets returned once, warnings.

    ``change`` is the change really carried out (a recovery path replaces it); ``done`` says whether every step ran.
    """

    def __init__(self, change: Change, result: Any = None, secrets: Optional[Dict[str, Any]] = None, warnings: Iterable[str] = (),
                 done: bool = True, extra: Optional[Dict[str, Any]] = None) -> None:
        self.change = change
        self.result = result
        self.secrets = dict(secrets or {})
        self.warnings = list(warnings)
        self.done = done
        self.extra = dict(extra or {})


class ApplyError(NetBirdError):
    """A change failed after some of its steps took effect; ``outcome`` says which."""

    def __init__(self, cause: NetBirdError, outcome: Outcome, message: Optional[str] = None) -> None:
        super().__init__(message or str(cause))
        self.cause = cause
        self.outcome = outcome


# -- what must happen before the changes that need it ------------------------------------------------

class Prerequisite:
    """A write that some changes need before they can be sent (e.g. a group that ``create_groups`` makes).

    A kind hands these out from ``Kind.prerequisites``; the runner runs each one that a change to be written needs,
    before the first change of the first stage, and does not attempt the changes that need a prerequisite that failed.
    """

    label = "a prerequisite"   # how messages name it: "group 'ops' (create_groups)"

    def needed_by(self, change: Change) -> bool:
        raise NotImplementedError

    def run(self) -> Optional[str]:
        """Send the write; returns what was done (for "already done"), or raises NetBirdError."""
        raise NotImplementedError

    def blocked_text(self) -> str:
        """Why a change that needs this prerequisite was not attempted, once it failed."""
        return "it needs %s, which failed" % self.label


# -- the kinds ---------------------------------------------------------------------------------------

class Kind:
    """A resource family, as the runner sees it. The contract is exactly the methods the runner calls:

    ``plan_all(specs)`` (every Change, or NetBirdInputError before any write), ``prerequisites(changes)``,
    ``phases(changes)``, ``lane(change)``, ``apply(change, stage, previous)`` (real runs only: check mode is decided by
    the runner, which calls ``predict`` instead), ``predict(change)``, ``view(change, outcome, partial)``,
    ``diff(change, outcome)``, ``done_text``, ``failure_text`` and ``finish``; plus the class attributes below and
    ``warnings`` (about the run as a whole, read once after planning).

    ``prepare`` and ``plan`` are not part of it: they are the steps of the default ``plan_all``. A kind is built once,
    from the task's parameters, by ``from_params``.
    """

    result_key = ""        # key of the batch result list ("users", "tokens")
    concurrent = False     # True: apply() is safe to call from several threads for changes in different lanes
    list_result = False    # True: the result is always the list (as in batch mode)
    single_keys: Tuple[str, ...] = ()  # keys of an entry copied to the result in single mode

    def __init__(self, client: Any, check_mode: bool = False) -> None:
        self.client = client
        self.check_mode = check_mode   # planning may differ (a warning instead of a refusal); apply never runs in it
        self.warnings: List[str] = []  # warnings about the run as a whole (not about one change)

    @classmethod
    def from_params(cls, client: Any, params: Dict[str, Any], check_mode: bool = False) -> "Kind":
        """The kind for one task, built once from its parameters."""
        return cls(client, check_mode=check_mode)

    # -- planning (helpers of the default plan_all) --------------------------------------------------
    def prepare(self, specs: Sequence[Spec]) -> None:
        """Read what planning needs (one list call), before the first plan."""

    def plan(self, spec: Any) -> Change:
        raise NotImplementedError

    # -- the contract ----------------------------------------------------------------------------------
    def plan_all(self, specs: Sequence[Any]) -> List[Change]:
        self.prepare(specs)
        return [self.plan(spec) for spec in specs]

    def prerequisites(self, changes: Sequence[Change]) -> List[Prerequisite]:
        """Writes that some changes need first (``Prerequisite``); none by default."""
        return []

    def phases(self, changes: Sequence[Change]) -> List[Tuple[Any, List[int]]]:
        """[(stage, [indexes])]: the order in which changes are handled. One pass, in input order, by default.

        A change in several stages (a token rotation: create, then delete) is not handled in a later stage once an
        earlier one failed."""
        return [(None, list(range(len(changes))))]

    def apply(self, change: Change, stage: Any = None, previous: Optional[Outcome] = None) -> Outcome:
        raise NotImplementedError

    def lane(self, change: Change) -> Hashable:
        """Changes in the same lane never run at the same time (default: the resource as read, else the spec).

        ``EXCLUSIVE``: the change runs alone, after every earlier change of its stage and before every later one.
        """
        current = change.current if isinstance(change.current, dict) else {}
        return current.get("id") or ("new", change.spec.identity())

    def predict(self, change: Change) -> Outcome:
        return Outcome(change, change.predicted)

    def view(self, change: Change, outcome: Outcome, partial: bool = False) -> Optional[Dict[str, Any]]:
        """One result entry (None: not listed). ``partial``: a write failed, so show what is really there."""
        raise NotImplementedError

    def brief(self, change: Change, outcome: Outcome, partial: bool = False) -> Optional[Dict[str, Any]]:
        """The entry of a change the result will not list (``batch_results: changed``, nothing changed, nothing
        failed): only what ``finish`` reads of it. The full view unless a kind knows better."""
        return self.view(change, outcome, partial)

    def diff(self, change: Change, outcome: Optional[Outcome]) -> Optional[Dict[str, Any]]:
        return None

    def done_text(self, change: Change, outcome: Outcome, stage: Any = None) -> Optional[str]:
        """What a successful apply did, for "already done" (None: nothing to report at this stage)."""
        return "%s %s" % (PAST.get(change.action, change.action), change.label)

    def failure_text(self, change: Change, outcome: Optional[Outcome], stage: Any, exc: NetBirdError) -> str:
        return "%s: %s" % (change.label, exc)

    def finish(self, result: Dict[str, Any], entries: List[Dict[str, Any]], changes: Sequence[Change],
               outcomes: Dict[int, Outcome]) -> None:
        """Add kind-specific keys (a summary) to the result."""


# -- the runner --------------------------------------------------------------------------------------

def partial_failure_message(head: str, done: Sequence[str], rest: Sequence[str], story: bool) -> str:
    """The one wording of a failure part-way: what failed, what was already done, what was not attempted."""
    if not story:
        return head
    text = "%s; %s" % (head, "already done: " + "; ".join(done) if done else "nothing had been changed yet")
    if rest:
        text += "; not attempted: %s" % ", ".join(rest)
    return text


def stops_the_batch(exc: NetBirdError) -> Optional[str]:
    """Why no later write can succeed after ``exc`` (the token rejected, the server out of reach), or None.

    Such a failure ends the batch as ``fail_fast`` does, even without it: every later request would fail the same way
    (and each would first wait through api_retries).
    """
    cause = exc.cause if isinstance(exc, ApplyError) else exc
    if not isinstance(cause, NetBirdAPIError) or isinstance(cause, AmbiguousWriteError):
        return None
    if cause.status == 401:
        return "the API token was rejected (HTTP 401)"
    if cause.status == 429:
        return "the server kept answering HTTP 429 (rate limit) after api_retries"
    if cause.status is None:
        return "the server could not be reached (%s)" % (cause.reason or cause.message or "no response")
    return None


class _Inline:
    """The executor of width 1: runs each change when it is submitted, in this thread."""

    @staticmethod
    def submit(func: Callable[..., Any], *args: Any) -> "Future[Any]":
        future: "Future[Any]" = Future()
        future.set_result(func(*args))
        return future

    def shutdown(self, wait: bool = True) -> None:
        pass


class BatchRunner:
    """One run of a kind: plan every change, then apply them: check mode, diff mode, warnings, results, failures.

    Everything comes from the constructor: the kind, how many changes may be in flight (``width``; 1 for a kind that
    is not ``concurrent``), the flow slots (``flow``: acquire / release / can_start, or None), the check and diff
    flags, a ``warn`` callback, whether the task is a batch, ``only_changed`` (batch_results=changed) and
    ``fail_fast``. The run's state (outcomes, what was done, what failed) lives on the runner.

    One apply loop serves every width: each stage (``Kind.phases``) starts its changes in input order, at most
    ``width`` in flight and never two of one ``Kind.lane``; an EXCLUSIVE change runs alone. Outcomes, warnings and
    "already done" are recorded in input order when the stage ends, so a run at any width reports what a sequential
    one does.

    Loop semantics. By default every change that does not depend on a failed one is attempted, and the run fails at
    the end with one line naming each failure and what was done. A change depends on
      - its own earlier stages (a token rotation never deletes the old token when creating the new one failed),
      - the prerequisites it needs (``Kind.prerequisites``: a group that create_groups had to make).
    An EXCLUSIVE change keeps its place: it starts after every earlier change of its stage has ended (failed or not)
    and before any later one. With ``fail_fast`` no new write starts after the first failure (those in flight
    finish); so it is, without fail_fast, after a failure that no later write can escape (``stops_the_batch``).
    On failure the result lists every entry: a failed one with ``failed`` and ``msg``, one not attempted also with
    ``not_attempted``; these are listed even with ``only_changed``. Input errors are raised by ``plan_all``, before
    any write: they are not loop failures.
    """

    def __init__(self, kind: Kind, width: int = 1, flow: Any = None, check_mode: bool = False, diff_mode: bool = False,
                 warn: Optional[Callable[[str], None]] = None, batch: bool = False, only_changed: bool = False,
                 fail_fast: bool = False) -> None:
        self.kind = kind
        self.width = max(1, int(width or 1)) if kind.concurrent else 1
        self.flow = flow if self.width > 1 else None
        self.check_mode = check_mode
        self.diff_mode = diff_mode
        self.warn: Callable[[str], None] = warn or (lambda text: None)
        self.batch = batch
        # batch_results=changed: the result lists only the entries that changed (or would, in check mode); the
        # summary still names every entry. At 10,000 entries the full list is most of what the module returns and
        # Ansible scrubs, copies and registers.
        self.only_changed = only_changed
        self.fail_fast = fail_fast
        # the run's state
        self.changes: List[Change] = []
        self.outcomes: Dict[int, Outcome] = {}      # index -> Outcome (of the last stage that ran, or of the failure)
        self.done: List[str] = []          # what was done, in order ("created alice@example.com")
        self.finished: Set[int] = set()   # indexes whose every step ran
        self.touched: Set[int] = set()    # indexes with at least one write that took effect
        self.failed: Dict[int, str] = {}        # index -> the entry's one-line error
        self.failures: List[str] = []      # every failure's text, in the order reported (prerequisites first)
        self.skipped: Dict[int, str] = {}       # index -> why it was not attempted (a failed dependency)
        self.stopped: Optional[str] = None     # why no new write starts any more (fail_fast, or a failure that stops the batch)

    # -- the run -------------------------------------------------------------------------------------------
    def run(self, specs: Sequence[Any]) -> Dict[str, Any]:
        self.changes = self.kind.plan_all(specs)
        self._warn(self.kind.warnings)
        for change in self.changes:
            self._warn(change.warnings)
        if self.check_mode:
            for index, change in enumerate(self.changes):
                self.outcomes[index] = self.kind.predict(change)
            return self._result()
        self._prerequisites()
        for stage, indexes in self.kind.phases(self.changes):
            self._stage(stage, [i for i in indexes if self._due(i)])
        for index, change in enumerate(self.changes):
            if index not in self.outcomes and not change.changed:
                self.outcomes[index] = self.kind.predict(change)
        if self.failures:
            raise OperationFailed(self._message(), self._result(partial=True))
        return self._result()

    def _warn(self, warnings: Iterable[str]) -> None:
        for warning in warnings:
            self.warn(warning)

    def _due(self, index: int) -> bool:
        return self.changes[index].changed and index not in self.failed and index not in self.skipped

    def _stop_after(self, exc: NetBirdError) -> None:
        """After a failure: no new write starts with fail_fast, or when no later write can succeed."""
        if self.stopped is None:
            self.stopped = stops_the_batch(exc) or ("fail_fast: no new write starts after the first failure" if self.fail_fast else None)

    def _prerequisites(self) -> None:
        for prerequisite in self.kind.prerequisites(self.changes):
            needers = [i for i in range(len(self.changes)) if self._due(i) and prerequisite.needed_by(self.changes[i])]
            if not needers or self.stopped:
                continue
            try:
                text = prerequisite.run()
            except NetBirdError as exc:
                self.failures.append("%s: %s" % (prerequisite.label, exc))
                self._stop_after(exc)
                for index in needers:
                    self.skipped[index] = prerequisite.blocked_text()
                continue
            if text:
                self.done.append(text)

    def _stage(self, stage: Any, todo: List[int]) -> None:
        """Apply one stage's changes, at most ``width`` in flight, never two of one lane; record them in input order."""
        lanes = dict((index, self.kind.lane(self.changes[index])) for index in todo)
        pending = list(todo)
        busy: Set[Hashable] = set()                  # lanes in flight
        running: Dict["Future[Any]", int] = {}     # future -> index
        results: Dict[int, Tuple[str, Any]] = {}     # index -> ("ok", outcome) | ("error", exc)
        executor: Any = ThreadPoolExecutor(max_workers=self.width) if self.width > 1 else _Inline()
        try:
            while running or (pending and not self.stopped):
                while pending and not self.stopped and len(running) < self.width and (self.flow is None or self.flow.can_start()):
                    index = self._next_ready(pending, lanes, busy, running)
                    if index is None:
                        break
                    pending.remove(index)
                    busy.add(lanes[index])
                    if self.flow is not None:
                        self.flow.acquire()
                    running[executor.submit(self._work, index, stage)] = index
                if not running:
                    break
                for future in wait(list(running), return_when=FIRST_COMPLETED).done:
                    index = running.pop(future)
                    busy.discard(lanes[index])
                    results[index] = future.result()
                    if results[index][0] == "error":
                        self._stop_after(results[index][1])
        finally:
            executor.shutdown(wait=True)
        for index in sorted(results):
            status, value = results[index]
            if status == "ok":
                self._record(index, stage, value)
            else:
                self._record_failure(index, stage, value)

    def _work(self, index: int, stage: Any) -> Tuple[str, Any]:
        """Apply one change (in a worker thread at width > 1): only kind.apply runs here, the runner's state is not touched."""
        try:
            return ("ok", self.kind.apply(self.changes[index], stage, self.outcomes.get(index)))
        except NetBirdError as exc:
            return ("error", exc)
        finally:
            if self.flow is not None:
                self.flow.release()

    @staticmethod
    def _next_ready(pending: List[int], lanes: Dict[int, Hashable], busy: Set[Hashable], running: Dict[Any, int]) -> Optional[int]:
        """The first pending change that may start now: its lane idle, no EXCLUSIVE change skipped or running."""
        if EXCLUSIVE in busy:
            return None
        for index in pending:
            if lanes[index] == EXCLUSIVE:
                return None if running else index
            if lanes[index] not in busy:
                return index
        return None

    def _record(self, index: int, stage: Any, outcome: Outcome) -> None:
        self.outcomes[index] = outcome
        self._warn(outcome.warnings)
        outcome.warnings = []
        self.touched.add(index)
        if outcome.done:
            self.finished.add(index)
        text = self.kind.done_text(self.changes[index], outcome, stage)
        if text:
            self.done.append(text)

    def _record_failure(self, index: int, stage: Any, exc: NetBirdError) -> None:
        if isinstance(exc, ApplyError):
            self.outcomes[index] = exc.outcome
            self.touched.add(index)  # some of its steps took effect
            self._warn(exc.outcome.warnings)
            exc.outcome.warnings = []
            cause = exc.cause
        else:
            cause = exc
        text = self.kind.failure_text(self.changes[index], self.outcomes.get(index), stage, cause)
        self.failed[index] = text
        self.failures.append(text)

    def _not_attempted(self, index: int) -> Optional[str]:
        """Why a change to be written was not attempted (None: it was, or needed nothing)."""
        if index in self.skipped:
            return self.skipped[index]
        if self.changes[index].changed and index not in self.finished and index not in self.failed:
            return self.stopped or "the batch stopped"
        return None

    def _message(self) -> str:
        head = self.failures[0]
        if len(self.failures) > 1:
            head += "; also failed: %s" % "; ".join(self.failures[1:])
        rest: List[str] = []
        for index, change in enumerate(self.changes):
            why = self._not_attempted(index)
            if why is not None:
                rest.append(change.label + (" (%s)" % why if index in self.skipped else ""))
        return partial_failure_message(head, self.done, rest, self.batch or len(self.changes) > 1 or len(self.failures) > 1)

    # -- the result ----------------------------------------------------------------------------------------
    def _result(self, partial: bool = False) -> Dict[str, Any]:
        entries: List[Dict[str, Any]] = []     # every entry: the summary names them all
        listed: List[Dict[str, Any]] = []      # the entries the result lists (batch_results=changed: the changed ones, and failures)
        diffs: List[Dict[str, Any]] = []
        for index, change in enumerate(self.changes):
            outcome = self.outcomes.get(index)
            if outcome is None:
                outcome = Outcome(change, change.current, done=False)  # nothing was done
            unlisted = self.only_changed and index not in self.failed and not (partial and self._not_attempted(index) is not None)
            entry = (self.kind.brief if unlisted else self.kind.view)(change, outcome, partial=partial)
            if entry is None:
                continue
            trouble = False
            if index in self.failed:
                entry.update(failed=True, msg=self.failed[index])
                trouble = True
            elif partial and self._not_attempted(index) is not None:
                entry.update(failed=True, not_attempted=True, msg="not attempted: %s" % self._not_attempted(index))
                trouble = True
            if trouble and "changed" in entry:
                entry["changed"] = index in self.touched
            entries.append(entry)
            if self.only_changed and not trouble and not entry.get("changed"):
                continue
            listed.append(entry)
            if self.diff_mode and not partial and change.changed:
                diff = self.kind.diff(outcome.change, outcome)
                if diff is not None:
                    diffs.append(diff)
        result: Dict[str, Any] = {"changed": any(entry.get("changed") for entry in entries)}
        if self.batch or self.kind.list_result:
            result[self.kind.result_key] = listed
            if diffs:
                result["diff"] = diffs
        elif entries:
            for key in self.kind.single_keys:
                if key in entries[0]:
                    result[key] = entries[0][key]
            if diffs:
                result["diff"] = diffs[0]
        self.kind.finish(result, entries, self.changes, self.outcomes)
        return result
