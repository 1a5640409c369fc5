"""wifimon: monitoring daemon for city-run free Wi-Fi hotspots."""

__version__ = "0.1.0"
