"""Rule IDs of the radiculopathy pathway, exactly as ``shared/spec/PATHWAY.md`` names them.

Each ID is defined once here; guards, deadlines, flags and error payloads carry these
constants, so a refusal can always be traced back to the sentence of the guideline it
enforces.
"""

from __future__ import annotations

from typing import Final

# The pathway version recorded with every transition-log snapshot: bump it when a rule
# changes, so an old decision can be explained by the rules in force when it was made.
PATHWAY_VERSION: Final = "2026-11-25"

# Red flags: urgent imaging and specialist referral.
RF_1: Final = "RF-1"  # cauda equina syndrome
RF_2: Final = "RF-2"  # progressive motor deficit
RF_3: Final = "RF-3"  # suspected malignancy
RF_4: Final = "RF-4"  # suspected infection
RF_5: Final = "RF-5"  # fracture
# The red-flag escalation rule itself (PATHWAY.md "Red flags", the `escalate` guard):
# the section has no numbered ID of its own, so reasons about "an active red flag" cite RF.
RF: Final = "RF"
URG_1: Final = "URG-1"  # an active red flag waives the elective gates

# Conservative care.
CC_1: Final = "CC-1"  # 42 days of conservative therapy before imaging or intervention
CC_2: Final = "CC-2"  # education: natural history, stay active
CC_3: Final = "CC-3"  # medication; negative-trial drugs flagged
CC_4: Final = "CC-4"  # physical therapy with Level B evidence

# Imaging.
IM_1: Final = "IM-1"  # MRI only after 42 days of failed therapy, in an ESI/surgical candidate
IM_2: Final = "IM-2"  # no imaging before 42 days unless a red flag
IM_3: Final = "IM-3"  # findings meaningful only when clinically correlated

# Epidural steroid injection.
ESI_1: Final = "ESI-1"  # 42 days of failed therapy and patient consent
ESI_2: Final = "ESI-2"  # fluoroscopic guidance; blind injections refused
ESI_3: Final = "ESI-3"  # not for non-radicular axial pain

# Radiofrequency options on the care plan.
RFA_1: Final = "RFA-1"  # RFA only after positive medial branch blocks
RFA_2: Final = "RFA-2"  # pulsed RF adjacent to the DRG

# Specialist referral timing.
REF_1: Final = "REF-1"  # persistent symptoms: by onset + 3 months
REF_2: Final = "REF-2"  # disabling pain: within 14 days
REF_3: Final = "REF-3"  # neurological deficit: immediately

# Surgery.
SX_1: Final = "SX-1"  # persistent radicular symptoms, compression on imaging, > 42 days, limited
SX_2: Final = "SX-2"  # biopsychosocial assessment
SX_3: Final = "SX-3"  # clinical correlation of symptoms and imaging
SX_4: Final = "SX-4"  # discectomy alone
SX_5: Final = "SX-5"  # fusion only with a listed indication

# Patient check-ins (PATHWAY.md "Patient check-in answers"): no numbered rule; actions
# that come from a patient's answers cite this.
CHECKIN: Final = "CHECK-IN"

# Refractory.
RX_1: Final = "RX-1"  # failed back surgery syndrome: spinal cord stimulation

ALL_RULES: Final = (
    RF_1, RF_2, RF_3, RF_4, RF_5, RF, URG_1,
    CC_1, CC_2, CC_3, CC_4,
    IM_1, IM_2, IM_3,
    ESI_1, ESI_2, ESI_3,
    RFA_1, RFA_2,
    REF_1, REF_2, REF_3,
    SX_1, SX_2, SX_3, SX_4, SX_5,
    RX_1, CHECKIN,
)  # fmt: skip
