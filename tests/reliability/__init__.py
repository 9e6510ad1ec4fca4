"""Reliability and security suite: both connectors under load, faults and hostile input (issue 7)."""
