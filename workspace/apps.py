from django.apps import AppConfig


class WorkspaceConfig(AppConfig):
    name = "workspace"
    verbose_name = "Coordinator workspace"

    def ready(self) -> None:
        # Imported once the app registry is ready (it imports models).
        from workspace import selectors  # noqa: PLC0415

        # What the clinical record shows of ours: outreach notes on the timeline.
        selectors.register()
