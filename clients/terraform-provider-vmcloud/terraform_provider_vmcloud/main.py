"""Entry point: the executable Terraform starts (``terraform-provider-vmcloud``)."""

from __future__ import annotations


def main() -> None:
    from tf.runner import run_provider

    from .provider import VMCloudProvider

    run_provider(VMCloudProvider())


if __name__ == "__main__":
    main()
