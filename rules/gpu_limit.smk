# GPU training jobs at once (resource `gpu`, GPUS_PER_JOB per job): in a local run, as many as this
# machine has GPUs, each job claiming its own (mtmixg.core.gpus); `--resources gpu=N` overrides.
# The scope "local" keeps the limit to local runs: with a cluster executor (Slurm) the scheduler
# does not count `gpu`, so every training job may be submitted at once. Included by
# training_common.smk after GPUS_PER_JOB is set.

from mtmixg.core.gpus import count_gpus, local_gpu_limit


resource_scopes:
    gpu="local",


GPU_LIMIT = local_gpu_limit(
    GPUS_PER_JOB, given="gpu" in workflow.global_resources, visible_gpus=count_gpus()
)
if GPU_LIMIT is not None:
    workflow.register_resource("gpu", GPU_LIMIT)
