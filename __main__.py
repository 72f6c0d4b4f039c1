"""The Pulumi program: read the stack config, build the ENEM lake, export what users need."""

import pulumi

from components.config import load_config
from components.datalake import DataLake, DataLakeArgs

lake = DataLake("enem", DataLakeArgs(dataset="enem", config=load_config()))

for key, value in lake.outputs.items():
    pulumi.export(key, value)
