"""The simulator's database: per-assistant call lists kept sorted by started_at.

Days are generated on first touch and spliced into place, so a query is a pair of bisects plus a
look at the few calls that exist but are not visible yet (late calls, live inserts).

Assistants come and go like on the platform: one added later gets the next index and a full
history (a sync that discovers it must fetch its old days); a deleted one keeps its timeline so the
test oracle still knows what it held. Phantoms are counted by queries but never served.
"""

from __future__ import annotations

import random
import threading
from bisect import bisect_left, bisect_right, insort
from dataclasses import dataclass, field

from simulator.config import DAY_MS, Clock, SimulatorConfig
from simulator.data import (
    CallPlan,
    GeneratorSettings,
    assistant_uuid,
    generate_day,
    plan_call,
    room_token,
)
from simulator.records import RenderContext, Version, render_version


@dataclass
class Timeline:
    starts: list[int] = field(default_factory=list)  # started_ms, ascending
    calls: list[CallPlan] = field(default_factory=list)  # parallel to starts
    late_visible: list[int] = field(default_factory=list)  # visible_ms of calls shown after start
    late_calls: list[CallPlan] = field(default_factory=list)  # parallel to late_visible
    days: set[int] = field(default_factory=set)


class VisibleView:
    """The visible calls of one timeline with started_ms in [lo_ms, hi_ms], by ascending rank.

    Valid only while the store's lock is held (indices shift when days or calls are added).
    """

    def __init__(self, timeline: Timeline, lo_idx: int, hi_idx: int, hidden: list[int]) -> None:
        self._t = timeline
        self._lo = lo_idx
        self._hi = hi_idx
        self._hidden = hidden
        self._hidden_set = frozenset(hidden)
        self.size = max(0, hi_idx - lo_idx - len(hidden))

    def _index_of_rank(self, rank: int) -> int:
        idx = self._lo + rank
        for hidden in self._hidden:
            if hidden <= idx:
                idx += 1
            else:
                break
        return idx

    def plans(self, rank_lo: int, rank_hi: int) -> list[CallPlan]:
        """Visible calls of ascending ranks [rank_lo, rank_hi)."""
        rank_lo, rank_hi = max(0, rank_lo), min(self.size, rank_hi)
        if rank_lo >= rank_hi:
            return []
        idx = self._index_of_rank(rank_lo)
        if not self._hidden:
            return self._t.calls[idx : idx + rank_hi - rank_lo]
        out: list[CallPlan] = []
        while len(out) < rank_hi - rank_lo:
            if idx not in self._hidden_set:
                out.append(self._t.calls[idx])
            idx += 1
        return out

    def tie_bounds(self, rank_lo: int, rank_hi: int) -> tuple[int, int]:
        """Widen [rank_lo, rank_hi) to whole groups of equal started_ms at both ends."""
        starts = self._t.starts
        first = self._index_of_rank(rank_lo)
        j = first - 1
        while j >= self._lo and (j in self._hidden_set or starts[j] == starts[first]):
            if j not in self._hidden_set:
                rank_lo -= 1
            j -= 1
        last = self._index_of_rank(rank_hi - 1)
        j = last + 1
        while j < self._hi and (j in self._hidden_set or starts[j] == starts[last]):
            if j not in self._hidden_set:
                rank_hi += 1
            j += 1
        return rank_lo, rank_hi


class CallStore:
    def __init__(self, cfg: SimulatorConfig, clock: Clock) -> None:
        self.lock = threading.RLock()
        self._clock = clock
        self.settings = GeneratorSettings(
            seed=cfg.seed,
            calls_per_day=cfg.calls_per_day,
            malformed_rate=cfg.malformed_rate,
            tie_burst_rate=cfg.tie_burst_rate,
            late_rate=cfg.late_rate,
        )
        now_ms = clock.now_ms()
        self.history_start_ms = (now_ms // DAY_MS - cfg.history_days) * DAY_MS
        self._ids: list[str] = []  # every assistant ever created, by index
        self._index: dict[str, int] = {}
        self._timelines: list[Timeline] = []
        self._phantoms: list[list[int]] = []  # per index: phantom started_ms, ascending
        self._created_ms: list[int] = []
        self._listing: list[int] = []  # active indices as /assistant/list shows them, newest first
        self.phantoms_added = 0
        for i in range(cfg.assistants):  # the initial ones were created a day apart, before history
            self._create(self.history_start_ms - i * DAY_MS)
            self._listing.append(i)
        third = max(1, (now_ms - self.history_start_ms) // 3)
        self.ctx = RenderContext(
            seed=cfg.seed,
            era_zulu_from_ms=self.history_start_ms + third,
            era_offset_from_ms=self.history_start_ms + 2 * third,
            rename_at_ms=self.history_start_ms + third + third // 2,
        )
        self.insert_budget = cfg.live_inserts
        self.inserts_done = 0
        self._insert_rng = random.Random(f"inserts:{cfg.seed}")

    # --- assistants -----------------------------------------------------------------------------

    def _create(self, created_ms: int) -> int:
        """Register the assistant with the next index (hold self.lock once the store is shared)."""
        index = len(self._ids)
        aid = assistant_uuid(self.settings.seed, index)
        self._ids.append(aid)
        self._index[aid] = index
        self._timelines.append(Timeline())
        self._phantoms.append([])
        self._created_ms.append(created_ms)
        return index

    @property
    def assistant_ids(self) -> list[str]:
        """The active assistants, by index (stable, unlike the newest-first listing)."""
        with self.lock:
            active = set(self._listing)
            return [aid for i, aid in enumerate(self._ids) if i in active]

    @property
    def all_assistant_ids(self) -> list[str]:
        """Every assistant ever created, deleted ones included, by index."""
        with self.lock:
            return list(self._ids)

    @property
    def deleted_assistant_ids(self) -> list[str]:
        with self.lock:
            active = set(self._listing)
            return [aid for i, aid in enumerate(self._ids) if i not in active]

    def listing(self) -> list[tuple[int, str, int]]:
        """(index, id, created_ms) of the active assistants, newest first, as the platform lists."""
        with self.lock:
            return [(i, self._ids[i], self._created_ms[i]) for i in self._listing]

    def index_of(self, assistant_id: str) -> int | None:
        """The index of any assistant ever created (deleted too: the oracle still reads them)."""
        with self.lock:
            return self._index.get(assistant_id)

    def active_index_of(self, assistant_id: str) -> int | None:
        """The index of an assistant the platform still serves; None once deleted or unknown."""
        with self.lock:
            index = self._index.get(assistant_id)
            return index if index is not None and index in self._listing else None

    def add_assistant(self) -> str:
        """A new assistant, created now and listed first, with a full history like the others."""
        with self.lock:
            index = self._create(self._clock.now_ms())
            self._listing.insert(0, index)
            return self._ids[index]

    def delete_assistant(self, assistant_id: str) -> None:
        """Stop serving an assistant (idempotent); its calls stay so truth() still returns them."""
        with self.lock:
            index = self._index.get(assistant_id)
            if index is None:
                raise KeyError(f"unknown assistant {assistant_id!r}")
            if index in self._listing:
                self._listing.remove(index)

    def _resolve(self, assistant: int | str) -> int:
        index = self._index.get(assistant) if isinstance(assistant, str) else assistant
        if index is None or not 0 <= index < len(self._ids):
            raise KeyError(f"unknown assistant {assistant!r}")
        return index

    def assistant_name(self, index: int, now_ms: int) -> str:
        return self.ctx.assistant_name(index, now_ms)

    # --- phantoms -----------------------------------------------------------------------------

    def add_phantom(self, assistant: int | str, started_ms: int) -> None:
        """Count one call that no page will ever return: the total disagrees with the pages.

        It counts for every query whose range holds ``started_ms`` once that instant has come, so
        a count check fails for windows containing it and converges for windows that don't.
        """
        if started_ms < self.history_start_ms:
            raise ValueError("a phantom cannot start before the simulator's history starts")
        with self.lock:
            insort(self._phantoms[self._resolve(assistant)], started_ms)
            self.phantoms_added += 1

    def phantom_count(self, index: int, lo_ms: int, hi_ms: int, now_ms: int) -> int:
        """Phantoms with lo_ms <= started_ms <= min(hi_ms, now_ms), the bounds view() applies."""
        with self.lock:
            starts = self._phantoms[index]
            hi_ms = min(hi_ms, now_ms)
            return max(0, bisect_right(starts, hi_ms) - bisect_left(starts, lo_ms))

    # --- reading (hold self.lock) -------------------------------------------------------------

    def _ensure_days(self, index: int, lo_ms: int, hi_ms: int) -> None:
        timeline = self._timelines[index]
        first = max(lo_ms, self.history_start_ms) // DAY_MS
        for day in range(first, hi_ms // DAY_MS + 1):
            if day in timeline.days:
                continue
            timeline.days.add(day)
            calls = generate_day(self.settings, index, self._ids[index], day)
            pos = bisect_left(timeline.starts, day * DAY_MS)
            timeline.starts[pos:pos] = [c.started_ms for c in calls]
            timeline.calls[pos:pos] = calls
            for call in calls:
                if call.visible_ms > call.started_ms:
                    self._track_late(timeline, call)

    @staticmethod
    def _track_late(timeline: Timeline, call: CallPlan) -> None:
        pos = bisect_right(timeline.late_visible, call.visible_ms)
        timeline.late_visible.insert(pos, call.visible_ms)
        timeline.late_calls.insert(pos, call)

    def view(self, index: int, lo_ms: int, hi_ms: int, now_ms: int) -> VisibleView:
        """Visible calls with lo_ms <= started_ms <= hi_ms (both inclusive) at now_ms."""
        lo_ms = max(lo_ms, self.history_start_ms)
        hi_ms = min(hi_ms, now_ms)
        timeline = self._timelines[index]
        if lo_ms > hi_ms:
            return VisibleView(timeline, 0, 0, [])
        self._ensure_days(index, lo_ms, hi_ms)
        lo_idx = bisect_left(timeline.starts, lo_ms)
        hi_idx = bisect_right(timeline.starts, hi_ms)
        hidden: list[int] = []
        for call in timeline.late_calls[bisect_right(timeline.late_visible, now_ms) :]:
            if lo_ms <= call.started_ms <= hi_ms:
                idx = bisect_left(timeline.starts, call.started_ms)
                while timeline.calls[idx] is not call:
                    idx += 1
                hidden.append(idx)
        hidden.sort()
        return VisibleView(timeline, lo_idx, hi_idx, hidden)

    def generated_plans(self, index: int) -> list[CallPlan]:
        """Every call generated or inserted so far for one assistant, visible or not (for tests)."""
        with self.lock:
            return list(self._timelines[index].calls)

    def version(self, plan: CallPlan, now_ms: int) -> Version:
        """The version of ``plan`` served at ``now_ms``, rendered and encoded on first use."""
        phase = plan.phase(now_ms)
        cached = plan.cache.get(phase)
        if cached is None:
            cached = render_version(self.ctx, plan, phase)
            plan.cache[phase] = cached
        return cached

    # --- writing ------------------------------------------------------------------------------

    def insert(
        self,
        index: int,
        started_ms: int,
        now_ms: int,
        final: bool | None,
        *,
        visible_ms: int | None = None,
    ) -> CallPlan:
        """Add one call that becomes visible at ``now_ms`` (or ``visible_ms``, later); final=None
        lets the RNG decide."""
        if started_ms < self.history_start_ms:
            raise ValueError("a call cannot start before the simulator's history starts")
        with self.lock:
            rng = self._insert_rng
            self.inserts_done += 1
            token = room_token("insert", self.settings.seed, index, self.inserts_done)
            plan = plan_call(
                rng,
                settings=self.settings,
                assistant_index=index,
                assistant_id=self._ids[index],
                token=token,
                started_ms=started_ms,
                queue_id=None,
                late=False,
            )
            plan.inserted = True
            plan.visible_ms = max(now_ms, started_ms, visible_ms or 0)
            want_final = rng.random() < 0.5 if final is None else final
            if final and plan.ended_ms > now_ms >= started_ms:
                _squeeze(plan, now_ms)  # asked for a finished call that started moments ago
            elif not want_final and plan.ended_ms <= now_ms:
                plan.ended_ms = now_ms + rng.randint(30_000, 900_000)
            timeline = self._timelines[index]
            self._ensure_days(index, started_ms, started_ms)
            pos = bisect_right(timeline.starts, started_ms)
            timeline.starts.insert(pos, started_ms)
            timeline.calls.insert(pos, plan)
            if plan.visible_ms > plan.started_ms:
                self._track_late(timeline, plan)
            return plan

    def maybe_live_insert(self, index: int, lo_ms: int, hi_ms: int, now_ms: int) -> bool:
        """Spend one unit of the live-insert budget on a call inside [lo_ms, min(hi_ms, now)]."""
        with self.lock:
            if self.insert_budget <= 0:
                return False
            lo_ms = max(lo_ms, self.history_start_ms)
            hi_ms = min(hi_ms, now_ms)
            if lo_ms > hi_ms:
                return False
            self.insert_budget -= 1
            started_ms = self._insert_rng.randint(lo_ms, hi_ms)
            self.insert(index, started_ms, now_ms, final=None)
            return True


def _squeeze(plan: CallPlan, end_ms: int) -> None:
    """Scale a call's timeline so that it ends at ``end_ms`` (answer time stays proportional)."""
    length = plan.ended_ms - plan.started_ms
    if plan.answered_ms is not None:
        ring = plan.answered_ms - plan.started_ms
        plan.answered_ms = plan.started_ms + ring * (end_ms - plan.started_ms) // length
    plan.ended_ms = end_ms
