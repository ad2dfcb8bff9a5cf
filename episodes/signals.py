"""The clinical record's domain events: the one module declaring what other apps may hear.

``episodes`` sits below ``notifications`` and the web layers and never imports them. Where
they must react to a write, it sends one of these events and they subscribe in their
``AppConfig.ready`` (Sentry's ``signals.py``, HackSoft's styleguide on when a signal is
right). Receivers run synchronously, inside the writer's transaction: the reminder row is
the schedule of record, so a receiver that fails rolls the write back with it. Nothing is
sent "on commit" here; a receiver that talks to the outside world defers that itself
(``transaction.on_commit``), as notifications does for its dispatch.

- ``episode_changed(episode=..., facts=...)``: the episode's state, facts or derived
  columns were written (every service ends with it once its columns are saved); ``facts``
  are careflow's ``Facts`` the write just read, handed along so no receiver reads them
  again.
- ``patient_changed(patient=...)``: a patient was created or their details written
  (``patient_create``, ``patient_update``), once the row is saved.
- ``red_flag_raised(red_flag=...)``: a red flag was raised, by anyone (a clinician, the
  patient's check-in, a derived sign).
- ``red_flag_reported(report=...)``: a patient reported a red-flag symptom that raised no
  new flag (its flag was already active, or the episode has ended): the care team is told
  again.
"""

from __future__ import annotations

from django.dispatch import Signal

episode_changed = Signal()
patient_changed = Signal()
red_flag_raised = Signal()
red_flag_reported = Signal()
