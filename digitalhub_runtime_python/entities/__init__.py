"""The objects the SDK hands out (Project, Function, Run, Dataitem, Artifact, Model) and the backend they stand on."""
