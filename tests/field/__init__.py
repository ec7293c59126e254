"""A model of field charge points, built from the OCPP specifications, for tests to run against.

`composite` computes the limit a charge point obeys from the profiles it holds (OCPP 1.6
edition 2 section 3.13, 2.0.1 part 2 section K); `charger` is a sans-I/O charge point with the
behaviours field units show within the specifications (clock skew and drift, strict
TxDefaultProfile, lost profiles, rejections); `client` puts it on the wire with the `ocpp`
library. None of it reads panelpilot's sender: it is the field the sender must survive.
"""
