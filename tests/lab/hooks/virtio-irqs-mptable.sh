# virtio-irqs-mptable hook: the same images and checks as virtio-irqs (acpi=off only
# changes how the guest finds the devices and their IRQs).
# shellcheck source=tests/lab/hooks/virtio-irqs.sh
. "$LAB/hooks/virtio-irqs.sh"
