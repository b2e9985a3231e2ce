"""Information pages for patients, as data: every paragraph carries the source key it rests on.

Plain words, no promises (DOMAIN 5: the evidence is mixed, and for some conditions weak). The
keys are those of ``core/data/sources.json`` (sections of the domain reference); the study names
are given in the text so that a patient can look them up.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Paragraph:
    text: str
    source: str


@dataclass(frozen=True)
class Topic:
    slug: str
    title: str
    summary: str
    paragraphs: tuple[Paragraph, ...]


@dataclass(frozen=True)
class Evidence:
    """What the studies say for one condition, in plain words."""

    codes: tuple[str, ...]
    name: str
    strength: str  # "moderate", "limited" or "weak or mixed"
    text: str
    studies: tuple[str, ...]
    source: str = "domain.5"


TOPICS: tuple[Topic, ...] = (
    Topic(
        "neural",
        "What to expect from neural prolotherapy",
        "Small injections of 5% dextrose just under the skin, about once a week.",
        (
            Paragraph(
                "Neural prolotherapy (also called perineural injection treatment) uses a fine "
                "needle to place small amounts of 5% dextrose, a simple sugar solution, just under "
                "the skin where small nerves come to the surface near the painful area.",
                "domain.1.2",
            ),
            Paragraph(
                "Sessions are usually about a week apart. A course is often 4 to 8 sessions; your "
                "practitioner will review with you whether to go on if the first sessions bring "
                "no relief.",
                "domain.1.2",
            ),
            Paragraph(
                "Practitioners describe relief that lasts from a few hours to a few days after the "
                "first sessions, and that should last longer after each session. This is what "
                "they report, not a promise: your diary shows how long relief lasts for you, and "
                "your practitioner uses it to decide what to do next.",
                "domain.1.2",
            ),
        ),
    ),
    Topic(
        "classic",
        "What to expect from classic prolotherapy",
        "Dextrose injections at painful ligaments, tendons and joints, every few weeks.",
        (
            Paragraph(
                "Classic (dextrose) prolotherapy injects a stronger dextrose solution, often mixed "
                "with a local anaesthetic, where ligaments and tendons attach to bone and "
                "sometimes into the joint.",
                "domain.1.1",
            ),
            Paragraph(
                "Sessions are usually 2 to 6 weeks apart, and studies used 3 to 6 sessions. Your "
                "practitioner will review with you after two or three sessions whether it is "
                "helping.",
                "domain.1.1",
            ),
            Paragraph(
                "Pain and stiffness for the first few days after a session are common: most "
                "people have some. It usually settles within three days.",
                "domain.2.4",
            ),
        ),
    ),
    Topic(
        "aftercare",
        "After your injections",
        "What is normal in the first days, and how to look after yourself.",
        (
            Paragraph(
                "Soreness where you were injected is common (about 7 in 10 people), stiffness "
                "less so (about 1 in 4) and bruising occasional (about 1 in 20). These are "
                "expected and harmless.",
                "domain.2.4",
            ),
            Paragraph(
                "About 1 in 10 people have a flare of pain that can last up to three days. It "
                "settles by itself; a simple painkiller such as acetaminophen (paracetamol) helps. "
                "Ask your clinic which painkillers suit you.",
                "domain.2.4",
            ),
            Paragraph(
                "After deeper injections, avoid heavy or repetitive work with the area for about "
                "three days. Gentle movement is good.",
                "domain.2.4",
            ),
            Paragraph(
                "Tell the clinic if the pain is still worse than before the session after three "
                "days: your diary will tell them too.",
                "domain.2.4",
            ),
        ),
    ),
    Topic(
        "warning-signs",
        "Warning signs: when to call, when to go to emergency",
        "Rare problems that need a call to the clinic today, or emergency care now.",
        (
            Paragraph(
                "Go to an emergency department at once if you have new trouble passing urine or "
                "controlling your bladder or bowels, or numbness between your legs or around your "
                "bottom. After back treatment these can be signs of pressure on the nerves at the "
                "base of the spine, which needs treatment the same day.",
                "domain.3.1",
            ),
            Paragraph(
                "Call the clinic the same day if you have a fever with intense pain, or redness "
                "or warmth spreading around an injection site: these can be signs of infection, "
                "which is rare but needs treatment.",
                "domain.2.4",
            ),
            Paragraph(
                "Call the clinic the same day if you notice new numbness or weakness. Nerve "
                "irritation after injections is uncommon and usually temporary, but it needs to "
                "be checked.",
                "domain.2.4",
            ),
            Paragraph(
                "After injections near the chest wall or ribs, sudden shortness of breath or "
                "chest pain needs emergency care: a collapsed lung (pneumothorax) is a rare but "
                "known risk of injections there.",
                "domain.2.4",
            ),
        ),
    ),
)

TOPICS_BY_SLUG = {t.slug: t for t in TOPICS}

EVIDENCE: tuple[Evidence, ...] = (
    Evidence(
        ("osteoarthritis", "knee_problems", "joint_pain"),
        "Knee and finger osteoarthritis",
        "moderate",
        "This is where the evidence is best. In controlled trials, people with knee "
        "osteoarthritis who had dextrose injections improved more than those who had salt-water "
        "injections or exercise alone, and the benefit lasted a year. In finger osteoarthritis, "
        "pain with movement improved more with dextrose. The trials were small, and not "
        "everyone improved.",
        (
            "Reeves & Hassanein 2000, knee and finger osteoarthritis trials",
            "Rabago et al. 2013, Annals of Family Medicine (knee, 90 people)",
            "Hung et al. 2016, Journal of Pain Research (review of knee trials)",
        ),
    ),
    Evidence(
        ("low_back_pain",),
        "Chronic low back pain",
        "weak or mixed",
        "The evidence is weak. A Cochrane review of five good trials found that prolotherapy "
        "alone worked no better than control injections; combined with other treatments such as "
        "exercise or manipulation it did better in two trials. In one trial, dextrose and "
        "salt-water injections helped about equally.",
        (
            "Dagenais et al. 2007, Cochrane review (366 people)",
            "Yelland et al. 2004, Spine (110 people)",
        ),
    ),
    Evidence(
        ("sciatica",),
        "Back pain with sciatica",
        "limited",
        "One small trial of a single 5% dextrose injection near the spine found more relief than "
        "salt water for up to two days, but not at two weeks. A follow-up without a comparison "
        "group reported lasting improvement with repeated injections; without a comparison, we "
        "cannot tell how much was due to the treatment.",
        (
            "Maniquis-Smigel et al. 2017, Anesthesiology and Pain Medicine (35 people)",
            "Maniquis-Smigel et al. 2018 follow-up (no comparison group)",
        ),
    ),
    Evidence(
        ("shoulder_rotator_cuff",),
        "Shoulder (rotator cuff) pain",
        "limited",
        "One trial with physiotherapy for everyone found that more people improved with "
        "dextrose injections than with superficial salt-water injections after nine months.",
        ("Bertrand et al. 2016, Archives of Physical Medicine and Rehabilitation (73 people)",),
    ),
    Evidence(
        ("achilles_tendinopathy",),
        "Achilles tendon pain",
        "limited",
        "In one small trial, injections combined with exercises helped more people than "
        "exercises alone. A large series of patients treated with injections under the skin "
        "reported good results, but without a comparison group.",
        (
            "Yelland et al. 2011, British Journal of Sports Medicine (43 people)",
            "Lyftogt 2007, case series (no comparison group)",
        ),
    ),
    Evidence(
        ("carpal_tunnel_syndrome",),
        "Carpal tunnel syndrome",
        "limited",
        "One well-run trial found a single ultrasound-guided 5% dextrose injection better than "
        "salt water for up to six months.",
        ("Wu et al. 2017, Mayo Clinic Proceedings (60 wrists)",),
    ),
    Evidence(
        ("plantar_fasciitis",),
        "Plantar fasciitis (heel pain)",
        "weak or mixed",
        "Only a small pilot trial (18 people) has been done; it found less tenderness. That is "
        "too small to be sure.",
        ("Conaway et al. 2020, pilot trial",),
    ),
    Evidence(
        ("lateral_epicondylalgia", "medial_epicondylalgia"),
        "Tennis or golfer's elbow",
        "limited",
        "A review found small trials favouring dextrose for tennis elbow; the trials were few "
        "and small.",
        ("Hauser et al. 2016, systematic review",),
    ),
)

# Said for every condition not in EVIDENCE: no trial was found in the clinic's reference.
NO_EVIDENCE = (
    "We found no controlled trial of prolotherapy for this condition in the research our clinic "
    "relies on. Practitioners offer it based on experience. Ask your practitioner what they "
    "expect, and use your diary to see whether it helps you."
)

REGULATORS_NOTE = Paragraph(
    "Prolotherapy is not a standard treatment everywhere: public and private insurers in the "
    "United States, for example, consider it unproven and do not cover it.",
    "domain.5",
)


def evidence_for(code: str) -> Evidence | None:
    return next((e for e in EVIDENCE if code in e.codes), None)
