"""The scheduler: the pipeline's stages run on their own clocks, by one leader at a time.

Contract: :func:`~publisher.schedule.service.start_in_process` starts this process's standby;
whichever process holds the leader lock (:mod:`~publisher.schedule.leader`) runs a
:class:`~publisher.schedule.scheduler.Scheduler` whose jobs come from
``schedules/default.toml`` (collection, bundle deliveries, SNS, watchdog, pruning) and from
the items themselves (:mod:`~publisher.schedule.transitions`: exact start and end instants).
Writers anywhere call :func:`~publisher.schedule.service.on_items_changed`.

May import: the basics, ``runtime``, ``store``, ``plan``, ``render``, ``collect``, ``deliver``.
"""
