"""The workspace's pages: function-based views, one module per page, htmx branches as plain ifs.

Every read goes through ``episodes.selectors`` (care-team scoping: another team's episode
is a 404) and every write through ``episodes.services`` or ``workspace.services``, exactly
as the API does; the input is validated by the API's own serializers (``workspace.forms``).
The audit middleware records each request that names an episode (``episode_id`` in the
URL), reads and writes alike. A refused write re-renders the episode page with the
status the API would answer (400, 403, 409, 422) and the refusal in sentences.

``board`` the queue board; ``queue`` a queue's page and the writes that redraw one of its
rows (``rows`` what a row shows); ``episode`` an episode's page and ``episode_writes`` the
forms on it; ``enrol`` a new patient and episode; ``pathway`` the pathway picture;
``common`` what several pages share.
"""
