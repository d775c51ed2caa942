/**
 * The money side of one position: fills and costs. Shared by the strategies and the buy-and-hold
 * benchmark, so both pay exactly the same way.
 *
 * - Every fill pays slippage against the trader: a buy fills at price × (1 + slippage), a sell at
 *   price × (1 − slippage). Entering a short is a sell, covering it a buy.
 * - Every fill pays commission on its traded value: units × fill price × commission.
 * - All the capital goes in, in fractional units: units = capital / (entry fill × (1 + commission)),
 *   so the entry's value plus its commission is exactly the capital. A short's notional is sized the
 *   same way (no leverage either side). Fractional units keep returns independent of the price level
 *   and leave no idle cash, so a trade's return is the strategy's return over it.
 */
export type Side = 'long' | 'short';

export interface Costs {
  commission: number;
  slippage: number;
}

export class Holding {
  private constructor(
    readonly side: Side,
    /** The entry fill, slippage included. */
    readonly entry_price: number,
    readonly units: number,
    /** The capital less the entry commission: the holding's value at the entry fill. */
    private readonly base: number,
    private readonly costs: Costs,
  ) {}

  static open(side: Side, price: number, capital: number, costs: Costs): Holding {
    const fill = price * (1 + direction(side) * costs.slippage);
    const units = capital / (fill * (1 + costs.commission));
    return new Holding(side, fill, units, capital - units * fill * costs.commission, costs);
  }

  /** Marked to market at `price`: what the position is worth before any exit costs. */
  valueAt(price: number): number {
    return this.base + direction(this.side) * this.units * (price - this.entry_price);
  }

  /** Closes at the quoted `price`: the exit fill (slippage included) and the cash after commission. */
  closeAt(price: number): { exit_price: number; cash: number } {
    const exit_price = price * (1 - direction(this.side) * this.costs.slippage);
    return { exit_price, cash: this.valueAt(exit_price) - this.units * exit_price * this.costs.commission };
  }
}

/** +1 for a long (gains when the price rises), −1 for a short. */
function direction(side: Side): 1 | -1 {
  return side === 'long' ? 1 : -1;
}
