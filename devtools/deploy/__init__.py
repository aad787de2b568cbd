"""Deployment tooling: the generated CloudFormation merge template and `make package`."""
