"""Ingestion: the trigger Lambda and the SageMaker container that streams a source zip into raw."""
