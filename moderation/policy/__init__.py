"""Policy checks an organisation can switch on for its members' posts, run before a post is stored or federates.

Owns: the public face of the package: PostDraft in, Verdict out, through evaluate(draft, settings). A leaf library:
imports nothing of ours outside this package. Never: performs I/O, reads the clock, or stores anything (confirmations,
holds and the audit log belong to the caller).

    settings = PolicySettings({"personal-data.bsn": CheckSetting("block"), "four-eyes": CheckSetting("hold")})
    verdict = evaluate(PostDraft(text=..., voice="official", now=now), settings)
    verdict.outcome  # "pass" | "warn" | "hold" | "block"
"""

from moderation.policy.engine import (CATALOGUE, CHECKS, Outcome, PolicySettings, Verdict, evaluate,
                                      findings_to_json)
from moderation.policy.model import (Action, Attachment, Author, Check, CheckSetting, Finding, Hit, Parameter,
                                     PostDraft, Severity, Voice)

__all__ = ["CATALOGUE", "CHECKS", "Action", "Attachment", "Author", "Check", "CheckSetting", "Finding", "Hit",
           "Outcome", "Parameter", "PolicySettings", "PostDraft", "Severity", "Verdict", "Voice", "evaluate",
           "findings_to_json"]
