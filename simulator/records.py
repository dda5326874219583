"""Rendering a planned call into the record versions the API serves, each encoded once.

A call's content is drawn from its own ``content_seed``, so every version of it agrees (same number,
same transcript) no matter which version is rendered first.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson

from simulator.data import SIP_TEXT, CallPlan

TIMESTAMP_FIELDS = ("answered_at", "started_at", "ended_at", "agent_ready_at")

ASSISTANT_NAMES = (
    "Support Bot",
    "Collections Agent (Hindi)",
    "Appointment Reminder",
    "Sales Outreach",
    "Feedback Survey",
    "Onboarding Helper",
    "Renewal Desk",
    "Delivery Updates",
)

_ASSISTANT_LINES = (
    "Hello, how can I help you?",
    "नमस्ते! मैं आपकी कैसे मदद कर सकती हूँ?",
    "Your appointment is confirmed for tomorrow at 10 AM 📅",
    'Could you please confirm your "registered" mobile number?',
    "आपका EMI भुगतान 5 तारीख तक देय है।",
    "Thank you for your time. Have a great day! 🙏",
    "I understand.\nLet me check that for you.",
    "क्या मैं आपको कल दोबारा कॉल कर सकती हूँ?",
    "Sure — I've noted that down.",
    "Is this a good time to talk? 😊",
)
_USER_LINES = (
    "Hi, yes speaking.",
    "हाँ, बोलिए।",
    "Can you call me later? I'm driving 🚗",
    'I already paid, it\'s "done" from my side.',
    "मुझे इसकी जानकारी नहीं थी।",
    "Okay 👍",
    "What?\nSorry, the line is bad.",
    "Haan theek hai, kal call karna.",
    "No thanks.",
    "कितना amount बाकी है?",
    "",
)
_REASONS = {
    "busy": "Callee was busy",
    "no_answer": "No answer",
    "rejected": "Call rejected by callee",
    "cancelled": "Cancelled before answer",
    "unreachable": "Number unreachable",
    "timeout": "No result within 60 s",
    "failed": "Call setup failed",
}
# call_end_reason of the outcomes that never connected (None: the platform writes none)
_END_REASONS: dict[str, str | None] = {
    "busy": "sip_bye",
    "no_answer": "sip_bye",
    "rejected": "sip_bye",
    "cancelled": None,
    "unreachable": None,
    "timeout": "error",
    "failed": "error",
}
_COMPLETED_END_REASONS = (
    "natural",
    "sip_bye",
    "max_duration_exceeded",
    "rtp_silence",
    "livekit_disconnected",
)
_COMPLETED_END_WEIGHTS = (70, 15, 5, 6, 4)
DEAD_AIR_SHARE = 0.04  # answered calls whose agent never became ready


@dataclass(slots=True)
class Version:
    """One served state of a call: the decoded record and its wire bytes."""

    doc: dict[str, Any]
    body: bytes


@dataclass(frozen=True)
class RenderContext:
    """What rendering needs beyond the plan: era boundaries and the assistants' identities."""

    seed: int
    era_zulu_from_ms: int  # before: naive timestamps; from here: ...000Z
    era_offset_from_ms: int  # from here: ...+00:00 and the usage object
    rename_at_ms: int  # assistant 0 is renamed here ("name at the time of the call")

    def assistant_name(self, index: int, started_ms: int) -> str:
        name = ASSISTANT_NAMES[index % len(ASSISTANT_NAMES)]
        if index >= len(ASSISTANT_NAMES):
            name = f"{name} {index // len(ASSISTANT_NAMES) + 1}"
        if index == 0 and started_ms < self.rename_at_ms:
            return "Support Bot (beta)"
        return name

    def email(self, index: int) -> str:
        return f"ops.team{index + 1}@example.com"

    def platform_number(self, index: int, service: str) -> str | None:
        if service == "web":
            return None
        if service == "twilio":
            return f"+1415555{(self.seed * 7 + index) % 10000:04d}"
        return f"+9180{(self.seed * 31 + index * 7919) % 100_000_000:08d}"


_NAIVE_EPOCH = datetime(1970, 1, 1)


def format_ts(ms: int, shape: str, offset_min: int | None) -> str:
    """Render an instant the way a row of that era stores it (always whole milliseconds)."""
    if offset_min is not None:
        local = _NAIVE_EPOCH + timedelta(milliseconds=ms, minutes=offset_min)
        sign = "+" if offset_min >= 0 else "-"
        hours, minutes = divmod(abs(offset_min), 60)
        return f"{local.isoformat(timespec='microseconds')}{sign}{hours:02d}:{minutes:02d}"
    when = _NAIVE_EPOCH + timedelta(milliseconds=ms)
    if shape == "naive":
        return when.isoformat(timespec="microseconds")
    if shape == "zulu":
        return when.isoformat(timespec="milliseconds") + "Z"
    return when.isoformat(timespec="microseconds") + "+00:00"


def _shape(ctx: RenderContext, plan: CallPlan) -> str:
    if plan.inserted or plan.started_ms >= ctx.era_offset_from_ms:
        return "offset"
    return "zulu" if plan.started_ms >= ctx.era_zulu_from_ms else "naive"


def _to_number(rng: random.Random) -> str:
    if rng.random() < 0.1:
        return f"+1{rng.randint(201, 989)}{rng.randrange(10**7):07d}"
    return f"+91{rng.randint(6, 9)}{rng.randrange(10**9):09d}"


def _transcript(
    rng: random.Random,
    plan: CallPlan,
    answered_ms: int,
    ended_ms: int,
    fmt: Callable[[int], str],
) -> list[dict[str, Any]]:
    if plan.long_transcript:
        turns = rng.randint(150, 400)
    else:
        talk_s = (ended_ms - answered_ms) / 1000
        turns = rng.randint(2, max(2, min(12, int(talk_s // 8) + 2)))
    bot = "agent" if rng.random() < 0.05 else "assistant"
    span = max(1, ended_ms - answered_ms - 500)
    draw = rng.random
    instants = sorted(answered_ms + int(draw() * span) for _ in range(turns))
    out = []
    for i, at in enumerate(instants):
        speaker = bot if i % 2 == 0 else "user"
        pool = _ASSISTANT_LINES if speaker != "user" else _USER_LINES
        text = pool[int(draw() * len(pool))]
        out.append({"speaker": speaker, "text": text, "timestamp": fmt(at)})
    return out


def _usage(rng: random.Random, talk_s: float) -> dict[str, Any]:
    prompt = int(talk_s * rng.uniform(40, 90)) + 300
    completion = int(talk_s * rng.uniform(5, 15))
    stt_seconds = round(talk_s, 1)
    tts_chars = int(talk_s * rng.uniform(4, 9))
    cost = prompt * 0.15e-6 + completion * 0.6e-6 + stt_seconds * 0.0001 + tts_chars * 15e-6
    return {
        "llm_prompt_tokens": prompt,
        "llm_completion_tokens": completion,
        "llm_tokens": prompt + completion,
        "stt_seconds": stt_seconds,
        "tts_characters": tts_chars,
        "estimated_cost_usd": f"{cost:.6f}",
    }


def render_final(ctx: RenderContext, plan: CallPlan) -> dict[str, Any]:
    """The terminal record (before malformation); earlier versions are derived from it."""
    rng = random.Random(plan.content_seed)
    shape = _shape(ctx, plan)

    def fmt(ms: int) -> str:
        return format_ts(ms, shape, plan.offset_min)

    answered = plan.answered_ms
    connected = answered is not None
    sip = plan.sip_code
    dead_air = connected and rng.random() < DEAD_AIR_SHARE
    agent_ready_ms: int | None = None
    if answered is not None and not dead_air:
        agent_ready_ms = answered + rng.randint(200, 2500)
    if plan.reaped:
        duration: float | None = None
    elif plan.outcome == "failed":
        duration = 0.0
    else:
        duration = (plan.ended_ms - (answered if answered is not None else plan.started_ms)) / 60000
    billable = -(-(plan.ended_ms - answered) // 60000) if answered is not None else 0
    reason: str | None = None
    if plan.outcome != "completed":
        if plan.reaped:
            reason = "Orphaned call closed by reaper"
        elif sip is not None:
            reason = f"SIP {sip} {SIP_TEXT[sip]}"
        else:
            reason = _REASONS[plan.outcome]
    end_reason = _end_reason(rng, plan, dead_air)
    to_number = _to_number(rng)
    recording_token = f"EG_{rng.getrandbits(48):012x}"
    transcripts = (
        _transcript(rng, plan, answered, plan.ended_ms, fmt) if answered is not None else []
    )
    doc: dict[str, Any] = {
        "room_name": plan.room_name,
        "assistant_id": plan.assistant_id,
        "assistant_name": ctx.assistant_name(plan.assistant_index, plan.started_ms),
        "to_number": to_number,
        "call_status": plan.outcome,
        "call_status_reason": reason,
        "sip_status_code": sip,
        "sip_status_text": SIP_TEXT[sip] if sip is not None else None,
        "answered_at": fmt(answered) if answered is not None else None,
        "started_at": fmt(plan.started_ms),
        "ended_at": fmt(plan.ended_ms),
        "call_duration_minutes": duration,
        "recording_path": (
            f"https://sim-recordings.s3.amazonaws.com/recordings/{plan.room_name}.ogg"
            if connected
            else None
        ),
        "transcripts": transcripts,
        "queue_id": plan.queue_id,
        "is_passthrough": rng.random() < 0.05,
        "agent_ready_at": fmt(agent_ready_ms) if agent_ready_ms is not None else None,
        "call_end_reason": end_reason,
        "billable_duration_minutes": billable,
        "recording_egress_id": recording_token if connected else None,
        "created_by_email": ctx.email(plan.assistant_index),
        "call_type": plan.call_type,
        "call_service": plan.call_service,
        "platform_number": ctx.platform_number(plan.assistant_index, plan.call_service),
    }
    if shape == "offset":
        talk_s = (plan.ended_ms - answered) / 1000 if answered is not None else 0.0
        doc["usage"] = _usage(rng, talk_s)
        if connected and rng.random() < 0.03:
            doc["sentiment_score"] = round(rng.uniform(-1, 1), 3)
    return doc


def _end_reason(rng: random.Random, plan: CallPlan, dead_air: bool) -> str | None:
    if dead_air:
        return rng.choice(("sip_bye", "rtp_silence"))
    if plan.outcome == "completed":
        return rng.choices(_COMPLETED_END_REASONS, _COMPLETED_END_WEIGHTS)[0]
    if plan.reaped:
        return "livekit_disconnected"
    if plan.outcome == "failed":
        return rng.choice(("error", "no_rtp"))
    return _END_REASONS[plan.outcome]


_NOT_YET = (
    "call_status_reason",
    "sip_status_code",
    "sip_status_text",
    "ended_at",
    "call_duration_minutes",
    "recording_path",
    "call_end_reason",
    "billable_duration_minutes",
)


def render_version(ctx: RenderContext, plan: CallPlan, phase: str) -> Version:
    doc = render_final(ctx, plan)
    if phase != "final":
        doc["call_status"] = phase
        for key in _NOT_YET:
            doc[key] = None
        doc["transcripts"] = []
        doc.pop("usage", None)
        doc.pop("sentiment_score", None)
        if phase == "initiated":
            doc["answered_at"] = None
            doc["agent_ready_at"] = None
            doc["recording_egress_id"] = None
    _malform(doc, plan.malformed)
    return Version(doc=doc, body=orjson.dumps(doc))


def _malform(doc: dict[str, Any], kind: str | None) -> None:
    if kind == "no_room_name":
        del doc["room_name"]
    elif kind == "null_transcripts":
        doc["transcripts"] = None
    elif kind == "string_ints":
        for key in ("sip_status_code", "billable_duration_minutes"):
            if isinstance(doc.get(key), int):
                doc[key] = str(doc[key])
