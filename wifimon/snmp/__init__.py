"""SNMP access: a narrow client interface, its implementations, profiles and decoding."""
