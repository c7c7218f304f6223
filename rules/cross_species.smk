# Cross-species evaluation (paper Fig. 4), when config cross_species lists >= 2 species and >= 1
# experiment: per experiment and seed a model trained on every chromosome of species A (fold "all",
# rule train) predicts every gene of each other species B the task uses. matrix.tsv holds
# train x test species accuracy / AUC-ROC / F1 (means over seeds); the diagonal is each species'
# own leave-one-chromosome-out result (a species' genes were its all-chromosome model's training
# data, so that model cannot score them).

if CROSS_ENABLED:

    rule cross_species_predict:
        input:
            model="results/{train_species}/models/{experiment}/seed{seed}/all/model.pt",
            meta="results/{train_species}/models/{experiment}/seed{seed}/all/model.json",
            # whether the all-chromosome model stayed at chance level (failed)
            trained_metrics="results/{train_species}/models/{experiment}/seed{seed}/all/metrics.json",
            windows="results/{test_species}/windows/windows.npy",
            genes="results/{test_species}/windows/genes.tsv",
            spec="results/{test_species}/windows/window.json",
        output:
            predictions=f"{CROSS_DIR}/seed{{seed}}/train_{{train_species}}/test_{{test_species}}/predictions.tsv",
            metrics=f"{CROSS_DIR}/seed{{seed}}/train_{{train_species}}/test_{{test_species}}/metrics.json",
        log:
            "logs/cross_species/{experiment}/seed{seed}/{train_species}_on_{test_species}.log",
        benchmark:
            "benchmarks/cross_species/{experiment}/seed{seed}/{train_species}_on_{test_species}.tsv"
        wildcard_constraints:
            train_species=alternatives(CROSS_SPECIES),
            test_species=alternatives(CROSS_SPECIES),
        conda:
            "../envs/python.yaml"
        threads: TRAIN_RESOURCES["threads"]
        resources:
            mem_mb=TRAIN_RESOURCES["mem_mb"],
            runtime=TRAIN_RESOURCES["runtime"],
        script:
            "../workflow_scripts/cross_species_predict.py"

    rule cross_species_matrix:
        input:
            unpack(cross_matrix_input),
        output:
            matrix=report(
                f"{CROSS_DIR}/matrix.tsv",
                caption="../report/cross_species_matrix.rst",
                category="Cross-species",
                labels={"experiment": "{experiment}", "table": "matrix"},
            ),
        log:
            "logs/cross_species/{experiment}/matrix.log",
        localrule: True
        conda:
            "../envs/python.yaml"
        params:
            runs=cross_matrix_runs,
            loco=cross_matrix_loco,
        script:
            "../workflow_scripts/cross_species_matrix.py"

    rule cross_species_heatmap:
        input:
            matrix=f"{CROSS_DIR}/matrix.tsv",
        output:
            png=figure(
                f"{CROSS_DIR}/heatmap.png",
                "cross_species_heatmap",
                category="Cross-species",
                experiment="{experiment}",
                figure="heatmap",
            ),
            svg=svg_beside(f"{CROSS_DIR}/heatmap.png"),
        log:
            "logs/cross_species/{experiment}/heatmap.log",
        localrule: True
        conda:
            "../envs/python.yaml"
        script:
            "../workflow_scripts/cross_species_heatmap.py"
