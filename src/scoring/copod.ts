/**
 * COPOD, Copula-Based Outlier Detection (Li et al. 2020), as PyOD's `COPOD` computes it.
 * Parameter-free. It shares ECOD's machinery (see ecod.ts: ECDFs from sorted training columns,
 * PyOD's column_ecdf values, skewness via scipy's rule, each new row appended to the training
 * data on its own) and differs only in how a feature's tail scores combine:
 *   U_l = -log F_l(x),  U_r = -log F_r(x)   (empirical copula tail probabilities)
 *   U_skew = U_r when the feature's skewness is positive, U_l when negative, U_l + U_r when zero
 *   O_j = max(U_skew, (U_l + U_r) / 2)
 * score = Σ_j O_j.
 *
 * A constant training column contributes 0 to every training score (PyOD with a current scipy
 * gives NaN there; ECOD's nan_to_num rule, skewness 0, is used instead). A new value that
 * differs from the constant gets a tail probability of 1/(n+1) and scores log(n+1) on it.
 */
import { ResolvedOptions, DetectorState } from './detector';
import { ECOD_OPTIONS, EmpiricalTailDetector } from './ecod';
import { Matrix } from './matrix';

const ALGORITHM = 'copod' as const;

/** Parameter-free like ECOD: the same options. */
export const COPOD_OPTIONS = ECOD_OPTIONS;

export interface CopodOptions {
  contamination?: number;
}

export type CopodParams = ResolvedOptions<typeof COPOD_OPTIONS>;

export class Copod extends EmpiricalTailDetector {
  static readonly algorithm = ALGORITHM;
  readonly algorithm = ALGORITHM;

  static fit(X: Matrix, options?: CopodOptions): Copod {
    const { params, tails, threshold } = EmpiricalTailDetector.fitTails(ALGORITHM, X, options);
    return new Copod(X.cols, threshold, params, tails);
  }

  static fromState(state: DetectorState): Copod {
    const { params, tails } = EmpiricalTailDetector.loadTails(ALGORITHM, state);
    return new Copod(state.nFeatures, state.threshold, params, tails);
  }
}
