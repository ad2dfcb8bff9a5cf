"""The check-in page's words, in the patient's language (English, Spanish)."""

from __future__ import annotations

from typing import Final

TEXT: Final[dict[str, dict[str, str]]] = {
    "en": {
        "title": "Your check-in",
        "intro": "Hello {name}, a few questions about your back and leg pain.",
        "overall": "Overall, since your last check-in, your pain is:",
        "better": "Better",
        "same": "About the same",
        "worse": "Worse",
        "resolved": "Gone",
        "disabling": "Does the pain stop you doing normal everyday things?",
        "yes": "Yes",
        "no": "No",
        "symptoms": "Do you have any of these now? Tick all that apply.",
        "bladder_or_bowel_problems": "New problems controlling your bladder or bowel",
        "saddle_numbness": "Numbness between your legs or around your bottom",
        "worsening_leg_weakness": "Leg weakness that is getting worse",
        "fever": "Fever (a high temperature)",
        "safety_net": (
            "Seek urgent care now (call your emergency number) if you have bladder or bowel "
            "problems, numbness in the saddle area, or leg weakness that gets worse."
        ),
        "submit": "Send my answers",
        "thanks": "Thank you, your answers have reached your care team.",
        "urgent": (
            "You reported a symptom that needs urgent attention. Your care team has been "
            "alerted. Do not wait for them: seek urgent care now."
        ),
        "resolved_note": "Your care team will confirm with you that your episode is resolved.",
        "correct": "You can change your answers until this link expires on {expires}.",
        "invalid_title": "This link does not work",
        "expired": "This check-in link has expired.",
        "bad": "This check-in link is not valid.",
        "ended": (
            "This episode of care has ended. If you have any of the symptoms below, tick "
            "them and send: your care team is told at once."
        ),
        "contact": "Please contact your care team{team}.",
        "slow_down": "Too many attempts. Please wait a few minutes and try again.",
        "choose_overall": "Please choose how your pain is overall.",
        "choose_disabling": "Please answer whether the pain stops your everyday activities.",
    },
    "es": {
        "title": "Su control",
        "intro": "Hola {name}, unas preguntas sobre su dolor de espalda y pierna.",
        "overall": "En general, desde su último control, su dolor está:",
        "better": "Mejor",
        "same": "Más o menos igual",
        "worse": "Peor",
        "resolved": "Ya no tengo dolor",
        "disabling": "¿El dolor le impide hacer sus actividades diarias normales?",
        "yes": "Sí",
        "no": "No",
        "symptoms": "¿Tiene ahora alguno de estos síntomas? Marque todos los que correspondan.",
        "bladder_or_bowel_problems": "Problemas nuevos para controlar la vejiga o el intestino",
        "saddle_numbness": "Adormecimiento entre las piernas o alrededor de las nalgas",
        "worsening_leg_weakness": "Debilidad en la pierna que empeora",
        "fever": "Fiebre (temperatura alta)",
        "safety_net": (
            "Busque atención urgente ahora (llame a su número de emergencias) si tiene "
            "problemas de vejiga o intestino, adormecimiento en la zona de la silla de montar, "
            "o debilidad en la pierna que empeora."
        ),
        "submit": "Enviar mis respuestas",
        "thanks": "Gracias, sus respuestas han llegado a su equipo de atención.",
        "urgent": (
            "Ha indicado un síntoma que necesita atención urgente. Hemos avisado a su equipo. "
            "No espere: busque atención urgente ahora."
        ),
        "resolved_note": "Su equipo confirmará con usted que el episodio está resuelto.",
        "correct": "Puede cambiar sus respuestas hasta que este enlace caduque el {expires}.",
        "invalid_title": "Este enlace no funciona",
        "expired": "Este enlace de control ha caducado.",
        "bad": "Este enlace de control no es válido.",
        "ended": (
            "Este episodio de atención ha terminado. Si tiene alguno de los síntomas de abajo, "
            "márquelo y envíe: avisaremos a su equipo de inmediato."
        ),
        "contact": "Por favor, contacte con su equipo de atención{team}.",
        "slow_down": "Demasiados intentos. Espere unos minutos y vuelva a intentarlo.",
        "choose_overall": "Indique cómo está su dolor en general.",
        "choose_disabling": "Indique si el dolor le impide sus actividades diarias.",
    },
}


def text_for(language: str) -> dict[str, str]:
    return TEXT.get(language, TEXT["en"])
