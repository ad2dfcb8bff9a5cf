"""FHIR R4B topic-based subscriptions (the Subscriptions R5 Backport IG), rest-hook only.

A Django app of its own inside the facade (label ``subscriptions``), so its tables and
migrations stand apart from the facade's other modules:

    topics      the two SubscriptionTopics: a red flag raised, a Task changed
    models      Subscription (the client's request, its counters and delivery lease) and
                SubscriptionEvent (the outbox: one row an event, and the record of its
                delivery); EpisodeTasks (the Tasks last notified, to tell which changed)
    outbox      the writes: events recorded in the clinical write's own transaction
                (receivers.py hears episodes' signals), subscriptions made and ended
    endpoints   where a notification may go (https, public addresses: SSRF) and the POST
    delivery    a subscription's handshake, events in order, heartbeats, retries
    resources   Subscription, SubscriptionStatus and notification Bundles as FHIR JSON
    tasks       Celery: deliver one subscription (an id), beat's sweep
    views       /fhir/Subscription (create, read, delete, search, $status), SubscriptionTopic
"""
