"""Who is asking: the access rules (:mod:`~pipeline.sessions.access`), the sessions this
server issued (:mod:`~pipeline.sessions.book`) and each session's uploads on disk
(:mod:`~pipeline.sessions.uploads`).
"""
