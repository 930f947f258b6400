"""``python -m publisher`` and the ``publisher`` command.

The command line is imported only when it runs: processes spawned from ``publisher serve``
(the Web Push fan-out) start by importing the script that started their parent, and should not
load the whole CLI and web stack they never use."""


def main() -> None:
    from publisher.cli.main import main as cli

    cli()


if __name__ == "__main__":
    main()
