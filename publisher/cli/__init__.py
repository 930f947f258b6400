"""The ``publisher`` command: the operator's and the scheduler's way in.

Contract: :func:`publisher.cli.main.main` is the console script. Commands live in modules
listed in :data:`publisher.cli.main.COMMAND_MODULES`, each with ``register(cli)``; they parse
arguments, call the stages and print results, and hold no rules of their own.

May import: anything in ``publisher``; nothing imports it (but ``__main__``).
"""
