"""Counter deltas: wraps, resets, reboots and absurd values never become rates."""

from wifimon.rates import COUNTER32_MODULUS, counter_delta


def test_plain_increase() -> None:
    assert counter_delta(1000, 8500, 64, 60).octets == 7500


def test_32_bit_wrap_counts_the_octets_across_the_wrap() -> None:
    result = counter_delta(COUNTER32_MODULUS - 500, 7_499_500, 32, 60, speed_mbps=100)
    assert result.octets == 7_500_000
    assert result.reason is None


def test_64_bit_decrease_is_a_reset_not_a_wrap() -> None:
    result = counter_delta(10_000_000, 5_000, 64, 60)
    assert result.octets is None and result.reason == "counter_reset"


def test_32_bit_decrease_too_large_for_the_link_is_a_reset() -> None:
    # A wrap would mean ~4.29 GB in 60 s (572 Mbit/s) on a 100 Mbit/s port: a reset instead.
    result = counter_delta(1_000_000, 2_000, 32, 60, speed_mbps=100)
    assert result.octets is None and result.reason == "counter_reset"


def test_reboot_gives_no_rate_even_if_counter_grew() -> None:
    result = counter_delta(1_000, 5_000, 64, 60, rebooted=True)
    assert result.octets is None and result.reason == "reboot"


def test_absurd_increase_is_refused() -> None:
    result = counter_delta(0, 10**15, 64, 60)
    assert result.octets is None and result.reason == "implausible_rate"


def test_no_elapsed_time_gives_no_rate() -> None:
    assert counter_delta(0, 100, 64, 0).reason == "no_time_elapsed"
