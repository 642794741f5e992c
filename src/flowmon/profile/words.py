"""The words of the migration profile, in English and Arabic (to be folded into ``flowmon.i18n`` later).

Stream names, months and the protection footnote come from ``flowmon.i18n`` and ``flowmon.privacy``; place
names from the gazetteer (states, offices) and pycountry's translations (countries).
"""

from __future__ import annotations

import gettext
from functools import cache

import pycountry

WORDS = {
    "en": {
        "profile": "Migration profile: Sudan",
        "subtitle": "A briefing pack regenerated from the flowmon store",
        "period": "Period",
        "office": "Offices",
        "all_offices": "all offices",
        "generated": "Figures as published by the dashboard for the same period and offices",
        "page": "Page {n} of {total}",
        "sources": "Sources",
        "as_of": "as of",
        "ch.key": "1. Key figures",
        "ch.displacement": "2. Displacement",
        "ch.returns": "3. Assisted returns and reintegration",
        "ch.trafficking": "4. Counter-trafficking",
        "ch.crossings": "5. Cross-border movements",
        "ch.trqn": "6. Diaspora engagement: TRQN",
        "ch.sources": "7. Data sources, coverage and gaps",
        "kpi.previous": "{previous:,} in {period}",
        "kpi.change_up": "up {pct}% on {period}",
        "kpi.change_down": "down {pct}% on {period}",
        "kpi.change_same": "unchanged from {period}",
        "kpi.no_change": "no comparison: {reason}",
        "s.kpi": "{what}: {value:,} {unit} in {period}",
        "s.kpi_change": "{what}: {value:,} {unit} in {period}, {change} ({previous:,} in {previous_period}).",
        "s.kpi_plain": "{what}: {value:,} {unit} in {period}.",
        "s.top": "{first} comes first with {v1:,}",
        "s.then": "followed by {rest}",
        "s.none": "No {what} in {period}.",
        "s.stock": "At the latest DTM round of the period, {value:,} people were displaced in Sudan.",
        "s.host": "The states hosting the most displaced people were {list}.",
        "s.origin": "The states most people were displaced from were {list}.",
        "s.flow": "The largest movement was from {origin} to {destination}: {value:,} people.",
        "s.no_flows": "The displacement data of this period do not say where people came from (stocks "
        "without origin): no origin-to-destination flows are shown.",
        "s.returns": "{value:,} migrants were helped to return home in {period}.",
        "s.return_flow": "The largest return movement was from {state} to {country}: {value:,} people.",
        "s.reintegration": "Reintegration status: {list}.",
        "s.nationality": "Most returnees were nationals of {list}.",
        "s.victim_nationality": "Most victims referred were nationals of {list}.",
        "s.trafficking": "{value:,} victims of trafficking were referred in {period}.",
        "s.exploitation": "The most reported forms of exploitation were {list}.",
        "s.services": "Victims were referred most often to {list} services.",
        "s.crossings_none": "The store holds no cross-border movement data for this period: this chapter is "
        "left out until flow monitoring points are ingested.",
        "s.trqn": "{value:,} TRQN assignments of Sudanese experts abroad were under way in {period}.",
        "s.trqn_change": "{value:,} TRQN assignments of Sudanese experts abroad were under way in {period}, "
        "{change} ({previous:,} in {previous_period}).",
        "s.trqn_sector": "By sector: {list}.",
        "s.trqn_state": "The host institutions were mostly in {list}.",
        "s.trqn_residence": "The experts lived in {list}.",
        "s.trqn_none": "The store holds no TRQN assignments for this period.",
        "s.trqn_national": "TRQN assignments are national: the office filter does not apply to them.",
        "s.trqn_k": "Counts of TRQN experts are adjusted like case counts (no count from 1 to 4 is shown).",
        "h.kpis": "Headline figures",
        "h.caseload_services": "Migrants assisted by MRRCs, by service",
        "h.caseload_nationality": "Migrants assisted by MRRCs, by nationality (top 8)",
        "s.caseload_nationality": "Most migrants assisted were nationals of {list}.",
        "overflow": "the page {page} is too long for A4",
        "h.trend": "Per month, {stream}",
        "h.by_state_in": "By state of displacement (top 8)",
        "h.by_state_out": "By state of origin (top 8)",
        "h.sankey": "From state of origin to state of displacement (largest flows)",
        "h.flow_table": "Largest origin-to-destination flows",
        "h.return_flows": "Returns by state of registration and country of return (largest)",
        "h.reintegration": "Reintegration status",
        "h.return_nationality": "Returnees by nationality (top 8)",
        "h.exploitation": "Victims referred by type of exploitation",
        "h.services": "Victims referred by service",
        "h.referral_nationality": "Victims referred by nationality (top 8)",
        "h.trqn_sector": "Assignments by sector",
        "h.trqn_state": "Assignments by state of the host institution",
        "h.trqn_residence": "Experts by country of residence",
        "h.sources": "Sources in the store",
        "h.coverage": "Coverage",
        "h.gaps": "Gaps and caveats",
        "col.origin": "From",
        "col.destination": "To",
        "col.people": "People",
        "col.state": "State",
        "col.country": "Country of return",
        "col.stream": "Data",
        "col.source": "Source",
        "col.as_of": "As of",
        "cov.months": "The store covers {first} to {last}.",
        "cov.partial": "{period} is only partly covered: changes are not compared with the previous period.",
        "cov.full": "{period} is covered in full by the store.",
        "cov.rounds": "Displacement figures are the DTM rounds {rounds}.",
        "cov.absent": "No data in the store for: {list}.",
        "cov.offices": "Offices not open for the whole period: {list}.",
        "cov.protect": "Counts of people in case records are published with the cell key method: each is "
        "adjusted slightly, and no count from 1 to {k} is shown ({k_ref} for trafficking referrals). "
        "Displacement figures are DTM's public figures, as published.",
        "cov.synthetic": "These are SYNTHETIC DEMO DATA: not real cases. Do not cite.",
        "cov.record_text": "Sentences are generated from the published figures only (values, ranks and "
        "changes); no record text is used.",
        "trqn": "TRQN assignments",
        "and": "and",
        "people": "people",
        "unknown": "unknown",
        "office_name": "{name} office",
    },
    "ar": {
        "profile": "ملف الهجرة: السودان",
        "subtitle": "ملف إحاطة يُعاد توليده من مخزن بيانات flowmon",
        "period": "الفترة",
        "office": "المكاتب",
        "all_offices": "جميع المكاتب",
        "generated": "الأرقام كما تنشرها لوحة المتابعة للفترة والمكاتب نفسها",
        "page": "صفحة {n} من {total}",
        "sources": "المصادر",
        "as_of": "حتى",
        "ch.key": "١. أرقام رئيسية",
        "ch.displacement": "٢. النزوح",
        "ch.returns": "٣. العودة الطوعية المساعدة وإعادة الإدماج",
        "ch.trafficking": "٤. مكافحة الاتجار بالبشر",
        "ch.crossings": "٥. التنقلات عبر الحدود",
        "ch.trqn": "٦. إشراك المغتربين: برنامج العودة المؤقتة للكفاءات الوطنية",
        "ch.sources": "٧. مصادر البيانات والتغطية والثغرات",
        "kpi.previous": "{previous:,} في {period}",
        "kpi.change_up": "بزيادة {pct}% عن {period}",
        "kpi.change_down": "بانخفاض {pct}% عن {period}",
        "kpi.change_same": "دون تغيير عن {period}",
        "kpi.no_change": "لا مقارنة: {reason}",
        "s.kpi_change": "{what}: {value:,} ({unit}) في {period}، {change} "
        "({previous:,} في {previous_period}).",
        "s.kpi_plain": "{what}: {value:,} ({unit}) في {period}.",
        "s.none": "لا توجد بيانات ({what}) في {period}.",
        "s.stock": "في آخر جولة لمصفوفة تتبع النزوح خلال الفترة، بلغ عدد النازحين في السودان {value:,} شخصاً.",
        "s.host": "أكثر الولايات استضافة للنازحين: {list}.",
        "s.origin": "أكثر الولايات التي نزح منها الناس: {list}.",
        "s.flow": "أكبر حركة نزوح كانت من {origin} إلى {destination}: {value:,} شخصاً.",
        "s.no_flows": "بيانات النزوح لهذه الفترة لا تذكر من أين جاء الناس (أعداد دون ولاية المنشأ): لا تُعرض "
        "تدفقات من المنشأ إلى الوجهة.",
        "s.returns": "ساعدت المنظمة {value:,} مهاجراً على العودة إلى بلدانهم في {period}.",
        "s.return_flow": "أكبر حركة عودة كانت من {state} إلى {country}: {value:,} شخصاً.",
        "s.reintegration": "حالة إعادة الإدماج: {list}.",
        "s.nationality": "كان معظم العائدين من مواطني {list}.",
        "s.victim_nationality": "كان معظم الضحايا المحالين من مواطني {list}.",
        "s.trafficking": "أُحيل {value:,} من ضحايا الاتجار بالبشر في {period}.",
        "s.exploitation": "أكثر أشكال الاستغلال المبلغ عنها: {list}.",
        "s.services": "أُحيل الضحايا في الغالب إلى خدمات {list}.",
        "s.crossings_none": "لا يحتوي المخزن على بيانات عن التنقلات عبر الحدود لهذه الفترة: يُترك هذا الفصل "
        "إلى أن تُدخل بيانات نقاط رصد التدفقات.",
        "s.trqn": "كانت {value:,} مهمة من مهام البرنامج لخبراء سودانيين مقيمين في الخارج جارية في {period}.",
        "s.trqn_change": "كانت {value:,} مهمة من مهام البرنامج لخبراء سودانيين مقيمين في الخارج جارية في "
        "{period}، {change} ({previous:,} في {previous_period}).",
        "s.trqn_sector": "حسب القطاع: {list}.",
        "s.trqn_state": "كانت المؤسسات المضيفة في الغالب في {list}.",
        "s.trqn_residence": "يقيم الخبراء في {list}.",
        "s.trqn_none": "لا يحتوي المخزن على مهام للبرنامج في هذه الفترة.",
        "s.trqn_national": "مهام البرنامج وطنية: لا ينطبق عليها اختيار المكتب.",
        "s.trqn_k": "تُعدَّل أعداد الخبراء كما تُعدَّل أعداد الحالات (لا يُعرض أي عدد من 1 إلى 4).",
        "h.kpis": "الأرقام الرئيسية",
        "h.caseload_services": "المهاجرون الذين تلقوا المساعدة في مراكز موارد المهاجرين، حسب الخدمة",
        "h.caseload_nationality": "المهاجرون الذين تلقوا المساعدة حسب الجنسية (أعلى 8)",
        "s.caseload_nationality": "كان معظم المهاجرين الذين تلقوا المساعدة من مواطني {list}.",
        "h.trend": "حسب الشهر، {stream}",
        "h.by_state_in": "حسب ولاية النزوح (أعلى 8)",
        "h.by_state_out": "حسب ولاية المنشأ (أعلى 8)",
        "h.sankey": "من ولاية المنشأ إلى ولاية النزوح (أكبر التدفقات)",
        "h.flow_table": "أكبر التدفقات من المنشأ إلى الوجهة",
        "h.return_flows": "العائدون حسب ولاية التسجيل وبلد العودة (الأكبر)",
        "h.reintegration": "حالة إعادة الإدماج",
        "h.return_nationality": "العائدون حسب الجنسية (أعلى 8)",
        "h.exploitation": "الضحايا المحالون حسب نوع الاستغلال",
        "h.services": "الضحايا المحالون حسب الخدمة",
        "h.referral_nationality": "الضحايا المحالون حسب الجنسية (أعلى 8)",
        "h.trqn_sector": "المهام حسب القطاع",
        "h.trqn_state": "المهام حسب ولاية المؤسسة المضيفة",
        "h.trqn_residence": "الخبراء حسب بلد الإقامة",
        "h.sources": "المصادر في المخزن",
        "h.coverage": "التغطية",
        "h.gaps": "الثغرات والتحفظات",
        "col.origin": "من",
        "col.destination": "إلى",
        "col.people": "الأشخاص",
        "col.state": "الولاية",
        "col.country": "بلد العودة",
        "col.stream": "البيانات",
        "col.source": "المصدر",
        "col.as_of": "حتى تاريخ",
        "cov.months": "يغطي المخزن الفترة من {first} إلى {last}.",
        "cov.partial": "البيانات تغطي جزءاً فقط من {period}: لا تُقارن التغيرات بالفترة السابقة.",
        "cov.full": "يغطي المخزن {period} كاملة.",
        "cov.rounds": "أرقام النزوح من جولات مصفوفة تتبع النزوح: {rounds}.",
        "cov.absent": "لا توجد بيانات في المخزن عن: {list}.",
        "cov.offices": "مكاتب لم تكن مفتوحة طوال الفترة: {list}.",
        "cov.protect": "تُنشر أعداد الأشخاص في سجلات الحالات بطريقة مفتاح الخلية: يُعدَّل كل عدد تعديلاً طفيفاً، "
        "ولا يُعرض أي عدد من 1 إلى {k} ({k_ref} لإحالات الاتجار). أرقام النزوح هي الأرقام العامة لمصفوفة تتبع "
        "النزوح كما نُشرت.",
        "cov.synthetic": "هذه بيانات تجريبية مصطنعة: ليست حالات حقيقية. لا يُستشهد بها.",
        "cov.record_text": "تُولَّد الجمل من الأرقام المنشورة فقط (القيم والترتيب والتغيرات)؛ "
        "لا يُستخدم أي نص من "
        "السجلات.",
        "trqn": "مهام برنامج العودة المؤقتة للكفاءات",
        "and": "و",
        "people": "شخص",
        "unknown": "غير معروف",
        "office_name": "مكتب {name}",
    },
}

# Vocabularies of the case streams and TRQN, in Arabic (English is the code itself).
TERMS_AR = {
    "pending": "قيد الانتظار",
    "in progress": "جارية",
    "completed": "مكتملة",
    "forced labour": "العمل القسري",
    "sexual exploitation": "الاستغلال الجنسي",
    "domestic servitude": "العبودية المنزلية",
    "forced begging": "التسول القسري",
    "forced marriage": "الزواج القسري",
    "other": "أخرى",
    "unknown": "غير معروف",
    "medical": "الطبية",
    "shelter": "الإيواء",
    "psychosocial": "النفسية والاجتماعية",
    "legal": "القانونية",
    "AVRR": "العودة الطوعية",
    "health": "الصحة",
    "education": "التعليم",
    "agriculture": "الزراعة",
    "water and sanitation": "المياه والصرف الصحي",
    "public administration": "الإدارة العامة",
    "infrastructure": "البنية التحتية",
    "economy and finance": "الاقتصاد والمالية",
    "screening": "الفحص",
    "counselling": "الإرشاد",
    "medical assistance": "المساعدة الطبية",
    "information session": "جلسات التوعية",
    "AVRR counselling": "إرشاد العودة الطوعية",
    "referral": "الإحالة",
    "cultural orientation": "التوجيه الثقافي",
}


def word(key: str, language: str = "en") -> str:
    """The profile's word ``key`` in ``language`` (English when there is no translation)."""
    return WORDS.get(language, WORDS["en"]).get(key) or WORDS["en"][key]


def term(code: str, language: str = "en") -> str:
    """A category, service or sector as readers say it."""
    return TERMS_AR.get(code, code) if language == "ar" else code


@cache
def _arabic_countries():
    try:
        return gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["ar"])
    except OSError:
        return gettext.NullTranslations()


def country(code: str, language: str = "en") -> str:
    """A country's common name from its ISO3 code (Arabic from pycountry's translations)."""
    found = pycountry.countries.get(alpha_3=str(code))
    if found is None:
        return word("unknown", language)
    name = getattr(found, "common_name", None) or found.name
    return _arabic_countries().gettext(found.name) if language == "ar" else name
