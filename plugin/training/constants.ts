/** The learning core's fixed shape. The training spec (`lstm-signals spec`) is generated from these. */

/** Sessions of history in one input window. */
export const SEQ_LEN = 60;

/** Sessions ahead the labels look: direction and return over the next FORECAST_DAYS sessions. */
export const FORECAST_DAYS = 5;
