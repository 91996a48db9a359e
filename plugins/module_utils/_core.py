# -*- coding: utf-8 -*-
# Copyright (c) netbird_ops.netbird contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The one engine every module runs on: plan every change, then apply them, in one place.

A resource family (users, tokens, approvals, and later invites) is a ``Kind``: it supplies only
``prepare`` (read what planning needs, once), ``find``, ``plan`` (spec -> immutable ``Change``),
``apply`` (Change -> ``Outcome``) and ``view`` / ``diff`` (what results show). The ``BatchRunner``
owns the rest: plan-all-then-apply, ordering (``Kind.phases``), warnings, check mode, diff mode,
results, the batch summary, and the one partial-failure story. Private to netbird_ops.netbird;
not a public API.
"""

from __future__ import annotations

import copy
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

from ansible_collections.netbird_ops.netbird.plugins.module_utils._api import NetBirdError, NetBirdInputError, OperationFailed
from ansible_collections.netbird_ops.netbird.plugins.module_utils._common import clean

# Past tense of every action, for summaries and "already done" lists.
PAST = {"create": "created", "update": "updated", "delete": "deleted", "rotate": "rotated", "approve": "approved",
        "reject": "rejected", "none": "unchanged"}

ROLES = ("owner", "admin", "user", "billing_admin", "auditor", "network_admin")


# -- server rules the argument spec cannot express, once ----------------------------------------------

def normalize_role(value, option="role"):
    """A role compared case-insensitively (``ADMIN`` is ``admin``): Ansible's ``choices`` are case-sensitive."""
    if value is None:
        return None
    role = str(value).strip().lower()
    if role not in ROLES:
        raise NetBirdInputError("%s %r is not a NetBird role; choose one of %s" % (option, value, ", ".join(ROLES)))
    return role


def entry_keys(spec):
    """Option names of one batch entry: the keys of its argument spec."""
    return tuple(spec)


def batch_argument_spec(entry_spec, key, **extra):
    """``entry_spec`` for single mode plus ``key`` (a list of such entries) for batch mode, mutually exclusive.

    The element spec carries its own ``required_*`` / ``mutually_exclusive`` rules, so Ansible checks every element
    the way it checks the single-mode options. Returns (argument_spec, module kwargs).
    """
    rules = entry_spec.pop("_rules", {})
    spec = copy.deepcopy(entry_spec)
    spec[key] = dict(type="list", elements="dict", options=copy.deepcopy(entry_spec), **extra)
    spec[key].update(rules)
    spec["batch_results"] = dict(type="str", choices=["all", "changed"], default="all")
    kwargs = dict((name, list(value)) for name, value in rules.items())
    kwargs["mutually_exclusive"] = kwargs.get("mutually_exclusive", []) + [(key, name) for name in entry_spec]
    return spec, kwargs


def build_specs(params, key, spec_class, duplicate):
    """Specs from the module parameters: one in single mode, one per element of ``params[key]`` in batch mode.

    ``duplicate`` words the refusal of two entries with the same ``identity()``.
    """
    if params.get(key) is not None:
        specs = [spec_class(entry or {}, where="%s[%d]" % (key, index)) for index, entry in enumerate(params[key])]
    else:
        specs = [spec_class(dict((name, params.get(name)) for name in spec_class.keys))]
    seen = {}
    for spec in specs:
        ident = spec.identity()
        if ident in seen:
            raise NetBirdInputError(duplicate(seen[ident], spec, ident))
        seen[ident] = spec.where
    return specs


# -- what a task asks for --------------------------------------------------------------------------

class Spec:
    """One entry of a task (single mode, or one element of a batch list), read from the module parameters.

    ``keys``: the entry's option names (from the argument spec); ``cleaned``: those stripped, blank meaning unset.
    Subclasses check in ``validate`` only what the argument spec cannot express.
    """

    keys = ()
    cleaned = ()

    def __init__(self, entry, where=None):
        self.where = where  # e.g. "users[2]" in batch mode, None in single mode
        for key in self.keys:
            value = entry.get(key)
            setattr(self, key, clean(value) if key in self.cleaned else value)
        self.validate()

    def opt(self, name):
        """How messages name an option: ``users[2].email`` in batch mode."""
        return "%s.%s" % (self.where, name) if self.where else name

    def fail(self, text):
        raise NetBirdInputError(text)

    def validate(self):
        """Rules between options that the argument spec cannot express."""

    def identity(self):
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

    def __init__(self, spec, current=None, action="none", request=None, predicted=None, warnings=(), info=None):
        for name, value in (("spec", spec), ("current", current), ("action", action), ("request", dict(request or {})),
                            ("predicted", predicted), ("warnings", tuple(warnings)), ("info", dict(info or {}))):
            object.__setattr__(self, name, value)

    def __setattr__(self, name, value):
        raise AttributeError("a Change is immutable; use evolve()")

    def evolve(self, **changes):
        values = dict((name, getattr(self, name)) for name in self.__slots__)
        values.update(changes)
        return Change(**values)

    @property
    def changed(self):
        return bool(self.request)

    @property
    def label(self):
        return self.info.get("label") or self.spec.label

    # read-only views of the request steps and facts, for kinds and tests
    def step(self, name):
        return self.request.get(name)


EXCLUSIVE = ("exclusive",)  # Kind.lane of a change that must run alone


class Outcome:
    """What applying (part of) a change did: the resource afterwards, secrets returned once, warnings.

    ``change`` is the change really carried out (a recovery path replaces it); ``done`` says whether every step ran.
    """

    def __init__(self, change, result=None, secrets=None, warnings=(), done=True, extra=None):
        self.change = change
        self.result = result
        self.secrets = dict(secrets or {})
        self.warnings = list(warnings)
        self.done = done
        self.extra = dict(extra or {})


class ApplyError(NetBirdError):
    """A change failed after some of its steps took effect; ``outcome`` says which."""

    def __init__(self, cause, outcome, message=None):
        super().__init__(message or str(cause))
        self.cause = cause
        self.outcome = outcome


# -- the kinds ---------------------------------------------------------------------------------------

class Kind:
    """A resource family. Subclasses implement prepare / find / plan / apply / view (and diff, done_text)."""

    result_key = None      # key of the batch result list ("users", "tokens")
    groups = None          # the kind's GroupResolver, when it resolves auto_groups (create_groups lives there)
    concurrent = False     # True: apply() is safe to call from several threads for changes in different lanes
    list_result = False    # True: the result is always the list (as in batch mode)
    single_keys = ()       # keys of an entry copied to the result in single mode

    def __init__(self, client, check_mode=False):
        self.client = client
        self.check_mode = check_mode
        self.warnings = []     # warnings about the run as a whole (not about one change)

    def prepare(self, specs):
        """Read what planning needs (one list call), before the first plan."""

    def find(self, spec):
        raise NotImplementedError

    def plan(self, spec):
        raise NotImplementedError

    def plan_all(self, specs):
        self.prepare(specs)
        return [self.plan(spec) for spec in specs]

    def phases(self, changes):
        """[(stage, [indexes])]: the order in which changes are handled. One pass, in input order, by default."""
        return [(None, list(range(len(changes))))]

    def apply(self, change, stage=None, previous=None):
        raise NotImplementedError

    def lane(self, change):
        """Changes in the same lane never run at the same time (default: the resource as read, else the spec).

        ``EXCLUSIVE``: the change runs alone, after every earlier change of its stage and before every later one.
        """
        current = change.current if isinstance(change.current, dict) else {}
        return current.get("id") or ("new", change.spec.identity())

    def predict(self, change):
        return Outcome(change, change.predicted)

    def pre_apply(self, changes):
        """Writes before every change: the groups ``create_groups`` planned (one POST each). Returns what was done."""
        if self.groups is not None and self.groups.planned and any(change.changed for change in changes):
            return ["created group %s" % name for name in self.groups.create_planned()]
        return []

    def real_body(self, body):
        """A request body with the stand-in IDs of groups made by ``pre_apply`` replaced by their real IDs."""
        if self.groups is None or not body or "auto_groups" not in body:
            return body
        return dict(body, auto_groups=self.groups.real(body["auto_groups"]))

    def view(self, change, outcome, partial=False):
        raise NotImplementedError

    def diff(self, change, outcome):
        return None

    def done_text(self, change, outcome, stage=None):
        """What a successful apply did, for "already done" (None: nothing to report at this stage)."""
        return "%s %s" % (PAST.get(change.action, change.action), change.label)

    def failure_text(self, change, outcome, stage, exc):
        return "%s: %s" % (change.label, exc)

    def finish(self, result, entries, changes, outcomes):
        """Add kind-specific keys (a summary) to the result."""


# -- the runner --------------------------------------------------------------------------------------

def partial_failure_message(head, done, rest, story):
    """The one wording of a failure part-way: what failed, what was already done, what was not attempted."""
    if not story:
        return head
    text = "%s; %s" % (head, "already done: " + "; ".join(done) if done else "nothing had been changed yet")
    if rest:
        text += "; not attempted: %s" % ", ".join(rest)
    return text


class BatchRunner:
    """Plan every change, then apply: check mode, diff mode, warnings, results and partial failures.

    The apply loop (``_apply``) is the one place that sends writes. With ``api_concurrency`` > 1 and a kind
    that allows it (``Kind.concurrent``), each stage runs its changes with that many in flight (never two of one
    ``Kind.lane``); stages stay in order, and results, warnings and failure reports are those of a sequential run.
    """

    def __init__(self, nb, kind, batch=False, only_changed=False):
        self.nb = nb
        self.kind = kind
        self.batch = batch
        # batch_results=changed: the result lists only the entries that changed (or would, in check mode); the
        # summary still names every entry. At 10,000 entries the full list is most of what the module returns and
        # Ansible scrubs, copies and registers.
        self.only_changed = only_changed

    def run(self, specs):
        changes = self.kind.plan_all(specs)
        self._warn(self.kind.warnings)
        for change in changes:
            self._warn(change.warnings)
        outcomes = {}
        done = []
        if self.nb.check_mode:
            for index, change in enumerate(changes):
                outcomes[index] = self.kind.predict(change)
        else:
            self._apply(changes, outcomes, done)
        return self._result(changes, outcomes)

    def _warn(self, warnings):
        for warning in warnings:
            self.nb.warn(warning)

    def _apply(self, changes, outcomes, done):
        finished = set(i for i, change in enumerate(changes) if not change.changed)
        done.extend(self.kind.pre_apply(changes))
        width = self._width()
        for stage, indexes in self.kind.phases(changes):
            todo = [index for index in indexes if changes[index].changed]
            if width > 1 and len(todo) > 1:
                for index in indexes:
                    if not changes[index].changed:
                        outcomes[index] = self.kind.predict(changes[index])
                self._apply_concurrently(changes, outcomes, done, finished, stage, todo, width)
                continue
            for index in indexes:
                change = changes[index]
                if not change.changed:
                    outcomes[index] = self.kind.predict(change)
                    continue
                try:
                    outcome = self.kind.apply(change, stage, outcomes.get(index))
                except NetBirdError as exc:
                    self._record_failure(outcomes, index, exc)
                    self._fail(changes, outcomes, index, stage, exc, done, finished)
                self._record(changes, outcomes, done, finished, index, stage, outcome)
        for index, change in enumerate(changes):
            if index not in outcomes:
                outcomes[index] = self.kind.predict(change)

    def _width(self):
        """Changes in flight at once: api_concurrency for a kind that allows it, else 1."""
        if not self.kind.concurrent:
            return 1
        try:
            return max(1, int(self.nb.params.get("api_concurrency") or 1))
        except (TypeError, ValueError):
            return 1

    def _record(self, changes, outcomes, done, finished, index, stage, outcome):
        outcomes[index] = outcome
        self._warn(outcome.warnings)
        outcome.warnings = []
        if outcome.done:
            finished.add(index)
        text = self.kind.done_text(changes[index], outcome, stage)
        if text:
            done.append(text)

    def _record_failure(self, outcomes, index, exc):
        outcome = exc.outcome if isinstance(exc, ApplyError) else outcomes.get(index)
        if outcome is not None:
            outcomes[index] = outcome
            self._warn(outcome.warnings)

    def _apply_concurrently(self, changes, outcomes, done, finished, stage, todo, width):
        """One stage with up to ``width`` changes in flight, never two of one lane; results as a sequential run.

        Only this thread touches the runner's state: workers call ``kind.apply`` and hand back the outcome or the
        error. Outcomes, warnings and "already done" are recorded in input order once the stage ends (or fails):
        after a failure no new change starts, the ones in flight finish, and the failure reports them as done.
        """
        flow = getattr(self.kind.client, "flow", None)
        lanes = [self.kind.lane(changes[index]) for index in todo]
        pending = list(range(len(todo)))      # positions in todo, in input order
        busy = set()                          # lanes in flight
        running = {}                          # future -> position
        results = {}                          # position -> ("ok", outcome) | ("error", exc)

        def work(position):
            index = todo[position]
            try:
                return ("ok", self.kind.apply(changes[index], stage, outcomes.get(index)))
            except NetBirdError as exc:
                return ("error", exc)
            finally:
                if flow is not None:
                    flow.release()

        failed = False
        with ThreadPoolExecutor(max_workers=width) as pool:
            while running or (pending and not failed):
                while pending and not failed and len(running) < width and (flow is None or flow.can_start()):
                    position = self._next_ready(pending, lanes, busy, running)
                    if position is None:
                        break
                    pending.remove(position)
                    busy.add(lanes[position])
                    if flow is not None:
                        flow.acquire()
                    running[pool.submit(work, position)] = position
                if not running:
                    break
                finished_now = wait(list(running), return_when=FIRST_COMPLETED).done
                for future in finished_now:
                    position = running.pop(future)
                    busy.discard(lanes[position])
                    results[position] = future.result()
                    failed = failed or results[position][0] == "error"
        errors = []
        for position in sorted(results):
            index = todo[position]
            status, value = results[position]
            if status == "ok":
                self._record(changes, outcomes, done, finished, index, stage, value)
            else:
                self._record_failure(outcomes, index, value)
                errors.append((index, value))
        if errors:
            index, exc = errors[0]
            also = [self.kind.failure_text(changes[i], outcomes.get(i), stage, e.cause if isinstance(e, ApplyError) else e)
                    for i, e in errors[1:]]
            self._fail(changes, outcomes, index, stage, exc, done, finished, also=[pair[0] for pair in errors[1:]], also_text=also)

    @staticmethod
    def _next_ready(pending, lanes, busy, running):
        """The first pending position that may start now: its lane idle, no EXCLUSIVE change skipped or running."""
        if EXCLUSIVE in busy:
            return None
        for position in pending:
            if lanes[position] == EXCLUSIVE:
                return None if running else position
            if lanes[position] not in busy:
                return position
        return None

    def _fail(self, changes, outcomes, index, stage, exc, done, finished, also=(), also_text=()):
        change = changes[index]
        head = self.kind.failure_text(change, outcomes.get(index), stage, exc.cause if isinstance(exc, ApplyError) else exc)
        if also_text:
            # other changes that were in flight when the first failed, and failed too
            head += "; also failed: %s" % "; ".join(also_text)
        failed = set(also) | {index}
        rest = [changes[i].label for i in range(len(changes)) if i not in failed and i not in finished and changes[i].changed]
        message = partial_failure_message(head, done, rest, self.batch or len(changes) > 1)
        result = self._result(changes, outcomes, partial=True)
        raise OperationFailed(message, result)

    def _result(self, changes, outcomes, partial=False):
        entries = []
        diffs = []
        for index, change in enumerate(changes):
            outcome = outcomes.get(index)
            entry = self.kind.view(change, outcome, partial=partial)
            if entry is None:
                continue
            entries.append(entry)
            if self.nb.diff_mode and not partial and change.changed:
                diff = self.kind.diff(outcome.change if outcome else change, outcome)
                if diff is not None:
                    diffs.append(diff)
        result = {"changed": any(entry.get("changed") for entry in entries)}
        if self.batch or self.kind.list_result:
            result[self.kind.result_key] = [entry for entry in entries if entry.get("changed")] if self.only_changed else entries
            if diffs:
                result["diff"] = diffs
        elif entries:
            for key in self.kind.single_keys:
                if key in entries[0]:
                    result[key] = entries[0][key]
            if diffs:
                result["diff"] = diffs[0]
        if self.kind.groups is not None and self.kind.groups.create:
            result["groups_created"] = list(self.kind.groups.planned)
        self.kind.finish(result, entries, changes, outcomes)
        return result


def module_runner(kind_class, make_specs, batch_key=None):
    """The ``run(nb)`` of a module: specs from the parameters, one kind, one BatchRunner."""
    def run(nb):
        specs = make_specs(nb.params)
        kind = kind_class(nb.client, check_mode=nb.check_mode)
        if kind.groups is not None:
            kind.groups.create = bool(nb.params.get("create_groups"))
        batch = bool(batch_key) and nb.params.get(batch_key) is not None
        return BatchRunner(nb, kind, batch=batch, only_changed=batch and nb.params.get("batch_results") == "changed").run(specs)
    return run
