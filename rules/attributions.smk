# Attribution maps of held-out genes, one job per (species, experiment, seed, fold): the fold's
# test genes only, so no map explains a training gene. DeepLIFT/SHAP where the architecture allows
# it, else ISM (mtmixg.interpret.attributions). Switched on by config key explain.experiments.


rule attributions:
    input:
        model=f"{MODEL_DIR}/model.pt",
        meta=f"{MODEL_DIR}/model.json",
        predictions=f"{MODEL_DIR}/predictions.tsv",
        windows="results/{species}/windows/windows.npy",
        genes="results/{species}/windows/genes.tsv",
        spec="results/{species}/windows/window.json",
    output:
        ohe=f"{EXPLAIN_DIR}/{MAP_FILES['ohe']}",
        attr=f"{EXPLAIN_DIR}/{MAP_FILES['attr']}",
        genes=f"{EXPLAIN_DIR}/{MAP_FILES['genes']}",
        info=f"{EXPLAIN_DIR}/{MAP_FILES['info']}",
    log:
        "logs/{species}/attributions/{experiment}/seed{seed}/{fold}.log",
    benchmark:
        "benchmarks/{species}/attributions/{experiment}/seed{seed}/{fold}.tsv"
    conda:
        "../envs/explain.yaml"
    threads: EXPLAIN["threads"]
    params:
        method=EXPLAIN["method"],
        shuffles=EXPLAIN["shuffles"],
        ism_window=EXPLAIN["ism_window"],
    script:
        "../workflow_scripts/attributions.py"
