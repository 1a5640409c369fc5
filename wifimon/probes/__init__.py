"""Active probes: reachability (ICMP, TCP fallback) and throughput (HTTP, iperf3)."""
