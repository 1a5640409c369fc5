"""Hotspot sessions: logged-in captive-portal users counted per titik."""
